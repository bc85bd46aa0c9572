<?php
// A callback receiver that checks the signature the way CoinsPaid's own
// shop plugins (WooCommerce, VirtueMart) do: over PHP's re-encoding of the
// decoded body, json_encode(json_decode($body, true)), not over the raw
// body. Run with `php -S 127.0.0.1:PORT coinspaid_plugin.php`; the secret
// and the log file come from the environment.
$body = file_get_contents('php://input');
$secret = getenv('CALLBACK_SECRET');
$signature = isset($_SERVER['HTTP_X_PROCESSING_SIGNATURE']) ? $_SERVER['HTTP_X_PROCESSING_SIGNATURE'] : '';
$data = json_decode($body, true);
if (!is_array($data)) {
    http_response_code(400);
    echo 'bad json';
    return;
}
$expected = hash_hmac('sha512', json_encode($data), $secret);
if (!hash_equals($expected, $signature)) {
    http_response_code(403);
    echo 'bad signature';
    return;
}
file_put_contents(getenv('CALLBACK_LOG'), json_encode(array('foreign_id' => $data['foreign_id'], 'status' => $data['status'])) . "\n", FILE_APPEND | LOCK_EX);
echo 'OK';
