-- pgstore schema version 4: SetAside finds the invoices claims set aside
-- from a small partial index instead of scanning every invoice. It holds
-- only set-aside invoices: not final, with a deadline and no sweep key (see
-- setaside.go). Set-aside deliveries (pending, ready at 'infinity') are
-- already found through deliveries_ready_idx.

CREATE INDEX invoices_set_aside_idx ON {schema}.invoices (id)
    WHERE sweep_at IS NULL AND deadline IS NOT NULL AND status NOT IN ('confirmed', 'failed');
