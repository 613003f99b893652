-- check: stock.missing_in_centra
-- entity: stock
-- severity: medium
-- owner: merchandising
-- title: OrderWise holds stock Centra cannot sell
-- remedy: Create the size in Centra or add its stock row for the warehouse; then push stock.
-- amount: OrderWise's units at the SKU's price: stock the shop cannot sell.
-- Only sale variants count: kits, discontinued and non-sale variants need not be in Centra.
select
    coalesce(n.sku, s.sku_key)                                    as sku,
    s.centra_warehouse                                            as warehouse,
    null                                                          as centra_value,
    cast(s.orderwise_units as varchar)                            as orderwise_value,
    null                                                          as difference,
    s.orderwise_units * p.unit_price                              as amount,
    p.currency                                                    as currency,
    format('OrderWise holds {} units of {} for warehouse {}, but Centra has {} for it there.',
           s.orderwise_units, n.sku, s.centra_warehouse,
           case when s.sku_key in (select sku_key from centra_products) then 'no stock row' else 'no such size' end) as detail
from stock_positions s
left join sku_names n on n.sku_key = s.sku_key
left join sku_prices p on p.sku_key = s.sku_key
where s.centra_free is null
  and s.orderwise_units > 0
  and s.sku_key in (select sku_key from ow_variants where sale_variant and not is_kit and not discontinued)
