-- tally export: stock (id column stock_id). Parameters: @since, @after_id.
-- free = in stock minus allocated (may be negative or fractional); overall = physically in stock.
SELECT TOP 1000
    vsl.vsl_id                      AS stock_id,
    vad.vad_variant_code            AS sku,
    sl.sl_id                        AS location_id,
    sl.sl_name                      AS location_name,
    CAST(vsl.vsl_free_stock AS decimal(18,4))       AS free,
    CAST(vsl.vsl_in_stock AS decimal(18,4))         AS overall,
    CONVERT(varchar(19), vsl.vsl_amended_datetime, 126) AS amended_at
FROM variant_stock_location vsl
JOIN variant_detail vad ON vad.vad_id = vsl.vsl_vad_id
JOIN stock_location sl ON sl.sl_id = vsl.vsl_sl_id
WHERE vsl.vsl_id > @after_id
  AND (@since = '' OR vsl.vsl_amended_datetime >= CONVERT(datetime, @since, 126))
ORDER BY vsl.vsl_id
