-- tally export: despatch_lines (id column despatch_line_id). Parameters: @since, @after_id.
SELECT TOP 1000
    dl.dl_id                        AS despatch_line_id,
    dl.dl_dh_id                     AS despatch_id,
    vad.vad_variant_code            AS sku,
    CAST(dl.dl_qty AS decimal(18,4))                AS qty,
    CONVERT(varchar(19), dh.dh_amended_datetime, 126) AS amended_at
FROM delivery_line dl
JOIN delivery_header dh ON dh.dh_id = dl.dl_dh_id
JOIN variant_detail vad ON vad.vad_id = dl.dl_vad_id
WHERE dl.dl_id > @after_id
  AND dh.dh_despatched_datetime IS NOT NULL
  AND (@since = '' OR dh.dh_amended_datetime >= CONVERT(datetime, @since, 126))
ORDER BY dl.dl_id
