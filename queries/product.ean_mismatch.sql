-- check: product.ean_mismatch
-- entity: product
-- severity: low
-- owner: merchandising
-- title: EAN differs between Centra and OrderWise
-- remedy: Correct the barcode on the side that is wrong; marketplaces and scanners rely on it.
-- amount: none.
select
    c.sku                                                         as sku,
    trim(c.ean)                                                   as centra_value,
    trim(v.ean)                                                   as orderwise_value,
    null                                                          as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('{} has EAN {} in Centra but {} in OrderWise.', c.sku, trim(c.ean), trim(v.ean)) as detail
from centra_products c
join ow_variants v on v.sku_key = c.sku_key
where nullif(trim(c.ean), '') is not null
  and nullif(trim(v.ean), '') is not null
  and trim(c.ean) <> trim(v.ean)
