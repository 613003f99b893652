-- tally export: variants (id column variant_id). Parameters: @since, @after_id.
SELECT TOP 1000
    vad.vad_id                      AS variant_id,
    vad.vad_variant_code            AS sku,
    vah.vah_product_code            AS product_code,
    vad.vad_description             AS description,
    NULLIF(LTRIM(RTRIM(vad.vad_ean_code)), '')      AS ean,
    CAST(vad.vad_discontinued AS bit)               AS discontinued,
    CAST(vad.vad_is_kit AS bit)                     AS is_kit,
    CAST(vad.vad_sale_variant AS bit)               AS sale_variant,
    CONVERT(varchar(19), vad.vad_amended_datetime, 126) AS amended_at
FROM variant_detail vad
JOIN variant_header vah ON vah.vah_id = vad.vad_vah_id
WHERE vad.vad_id > @after_id
  AND (@since = '' OR vad.vad_amended_datetime >= CONVERT(datetime, @since, 126))
ORDER BY vad.vad_id
