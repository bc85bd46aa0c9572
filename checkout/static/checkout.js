// Checkout page script: countdown, live status, copy buttons. The page
// works without it (the server renders every state and a <noscript>
// refresh reloads it); this only makes it live. No inline script: the
// Content-Security-Policy allows only this file.
(function () {
  'use strict';

  var live = document.getElementById('live');
  var statusEl = document.getElementById('status');
  var announceEl = document.getElementById('timer-announce');

  // Copy buttons: shown only when the clipboard can be used.
  function bindCopy(scope) {
    if (!navigator.clipboard) return;
    var buttons = scope.querySelectorAll('button.copy[data-copy]');
    for (var i = 0; i < buttons.length; i++) {
      var b = buttons[i];
      b.hidden = false;
      b.addEventListener('click', function (ev) {
        var btn = ev.currentTarget, label = btn.textContent;
        navigator.clipboard.writeText(btn.getAttribute('data-copy')).then(function () {
          btn.textContent = btn.getAttribute('data-copied');
          if (announceEl) announceEl.textContent = btn.getAttribute('data-copied');
          setTimeout(function () { btn.textContent = label; }, 2000);
        }, function () {});
      });
    }
  }

  // Countdown from the server's seconds_left, measured with the page's
  // monotonic clock: the client's wall clock is never read.
  var timerEl = null, endsAt = 0, lastMinute = -1;
  function fmt(s) {
    var h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    var mm = (h > 0 && m < 10 ? '0' : '') + m, ss = (r < 10 ? '0' : '') + r;
    return (h > 0 ? h + ':' : '') + mm + ':' + ss;
  }
  function bindTimer() {
    timerEl = document.getElementById('timer');
    if (!timerEl) return;
    var s = parseInt(timerEl.getAttribute('data-seconds-left'), 10);
    if (isNaN(s)) { timerEl = null; return; }
    endsAt = performance.now() + s * 1000;
    lastMinute = Math.ceil(s / 60);
    tick();
  }
  function tick() {
    if (!timerEl) return;
    var left = Math.max(0, Math.ceil((endsAt - performance.now()) / 1000));
    if (left === 0) {
      timerEl.textContent = timerEl.getAttribute('data-expired');
      if (announceEl) announceEl.textContent = timerEl.getAttribute('data-expired');
      timerEl = null;
      poll(); // the server decides what happens now
      return;
    }
    timerEl.textContent = fmt(left);
    var minute = Math.ceil(left / 60);
    if (minute !== lastMinute && minute <= 5 && announceEl) {
      announceEl.textContent = timerEl.getAttribute('data-announce').replace('{minutes}', String(minute));
    }
    lastMinute = minute;
  }

  // Live status: poll the JSON endpoint; on a change, replace the live
  // section with the server's rendering and update the status line.
  var etag = live ? live.getAttribute('data-etag') : '';
  var final = live ? live.getAttribute('data-final') === 'true' : true;
  var pollMS = live ? parseInt(live.getAttribute('data-poll-ms'), 10) || 3000 : 3000;
  var pollTimer = 0, inFlight = false;
  function schedule() {
    clearTimeout(pollTimer);
    if (!final) pollTimer = setTimeout(poll, pollMS);
  }
  function poll() {
    if (!live || inFlight) return;
    inFlight = true;
    var headers = {'Accept': 'application/json'};
    if (etag) headers['If-None-Match'] = etag;
    fetch(live.getAttribute('data-status-url'), {headers: headers, cache: 'no-store', credentials: 'same-origin'})
      .then(function (r) {
        if (r.status === 304) return null;
        if (!r.ok) throw new Error('status ' + r.status);
        etag = r.headers.get('ETag') || '';
        return r.json();
      })
      .then(function (d) { if (d) apply(d); })
      .catch(function () {})
      .then(function () { inFlight = false; schedule(); });
  }
  function apply(d) {
    final = d.final;
    live.innerHTML = d.html;
    live.setAttribute('data-phase', d.phase);
    live.setAttribute('data-final', String(d.final));
    if (statusEl) {
      statusEl.setAttribute('data-phase', d.phase);
      if (statusEl.textContent !== d.status_text) statusEl.textContent = d.status_text;
    }
    bindCopy(live);
    bindTimer();
  }

  document.documentElement.classList.add('js');
  bindCopy(document);
  bindTimer();
  setInterval(tick, 1000);
  document.addEventListener('visibilitychange', function () { if (!document.hidden) poll(); });
  schedule();
})();
