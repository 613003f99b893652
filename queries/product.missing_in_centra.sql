-- check: product.missing_in_centra
-- entity: product
-- severity: low
-- owner: ecommerce
-- title: OrderWise sale variant that Centra lacks
-- remedy: Create the size in Centra if it should sell online, or mark the variant non-sale in OrderWise.
-- amount: none.
-- Discontinued variants, kits and non-sale variants (components, packaging) need not be in Centra.
select
    v.sku                                                         as sku,
    null                                                          as centra_value,
    v.description                                                 as orderwise_value,
    null                                                          as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('OrderWise sells {} ({}) but Centra has no size with that SKU.', v.sku, v.description) as detail
from ow_variants v
where v.sale_variant and not v.discontinued and not v.is_kit
  and v.sku_key not in (select sku_key from centra_products)
