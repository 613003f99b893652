-- check: product.sku_format
-- entity: product
-- severity: low
-- owner: merchandising
-- title: SKU matches only after trimming spaces or folding case
-- remedy: Make the OrderWise variant code identical to Centra's SKU; tally treats them as one meanwhile.
-- amount: none.
select
    c.sku                                                         as sku,
    '"' || c.sku || '"'                                           as centra_value,
    '"' || v.sku || '"'                                           as orderwise_value,
    null                                                          as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('Centra SKU "{}" is "{}" in OrderWise: the same product, written differently.', c.sku, v.sku) as detail
from centra_products c
join ow_variants v on v.sku_key = c.sku_key and v.sku <> c.sku
where c.sku not in (select sku from ow_variants)
