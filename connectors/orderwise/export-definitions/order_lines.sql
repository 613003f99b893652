-- tally export: order_lines (id column line_id). Parameters: @since, @after_id.
SELECT TOP 1000
    oli.oli_id                      AS line_id,
    oli.oli_oh_id                   AS order_id,
    vad.vad_variant_code            AS sku,
    CAST(oli.oli_qty_required AS decimal(18,4))     AS qty_required,
    CAST(oli.oli_qty_sent AS decimal(18,4))         AS qty_sent,
    CAST(oli.oli_item_gross AS decimal(18,4))       AS item_gross,
    CAST(oli.oli_line_net AS decimal(18,4))         AS line_net,
    CAST(oli.oli_line_vat AS decimal(18,4))         AS line_vat,
    CAST(oli.oli_line_gross AS decimal(18,4))       AS line_gross,
    vc.vc_code                      AS vat_code,
    CAST(vc.vc_rate AS decimal(18,4))               AS vat_rate,
    CONVERT(varchar(19), oh.oh_amended_datetime, 126) AS amended_at
FROM order_line_item oli
JOIN order_header oh ON oh.oh_id = oli.oli_oh_id
JOIN variant_detail vad ON vad.vad_id = oli.oli_vad_id
LEFT JOIN vat_code vc ON vc.vc_id = oli.oli_vc_id
WHERE oli.oli_id > @after_id
  AND (@since = '' OR oh.oh_amended_datetime >= CONVERT(datetime, @since, 126))
ORDER BY oli.oli_id
