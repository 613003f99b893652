-- check: product.missing_in_orderwise
-- entity: product
-- severity: high
-- owner: merchandising
-- title: Active Centra size whose SKU OrderWise lacks
-- remedy: Create the variant in OrderWise with this SKU before it sells; orders for it cannot import.
-- amount: none: a product, not a sale; its orders count themselves.
-- Inactive sizes need not exist in OrderWise.
select
    c.sku                                                         as sku,
    c.product_name || ' / ' || c.variant_name || ' / ' || c.size_number as centra_value,
    null                                                          as orderwise_value,
    null                                                          as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('Centra sells {} ({}, {}) but OrderWise has no variant with that SKU.', c.sku, c.product_name, c.variant_name) as detail
from centra_products c
where c.is_active and c.product_status = 'ACTIVE'
  and c.sku_key not in (select sku_key from ow_variants)
