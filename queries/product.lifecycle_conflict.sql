-- check: product.lifecycle_conflict
-- entity: product
-- severity: medium
-- owner: merchandising
-- title: Product retired on one side only
-- remedy: Agree the product's status: deactivate it in Centra, or reinstate the variant in OrderWise.
-- amount: none.
with orderwise_on_hand as (
    select sku_key, sum(overall) as on_hand from ow_stock group by sku_key
), sides as (
    select c.sku, c.product_name,
           c.is_active and c.product_status = 'ACTIVE' as centra_active,
           v.discontinued, coalesce(h.on_hand, 0) as on_hand
    from centra_products c
    join ow_variants v on v.sku_key = c.sku_key
    left join orderwise_on_hand h on h.sku_key = c.sku_key
)
select
    sku                                                           as sku,
    case when centra_active then 'active' else 'inactive' end     as centra_value,
    case when discontinued then 'discontinued' else 'live' end    as orderwise_value,
    null                                                          as difference,
    null                                                          as amount,
    null                                                          as currency,
    case when centra_active
         then format('{} ({}) is on sale in Centra but discontinued in OrderWise, so its orders will not be fulfilled.', sku, product_name)
         else format('{} ({}) is inactive in Centra but live in OrderWise with {} on hand that cannot sell online.', sku, product_name, money_text(on_hand))
    end                                                           as detail
from sides
where (centra_active and discontinued)
   or (not centra_active and not discontinued and on_hand > 0)
