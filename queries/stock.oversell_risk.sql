-- check: stock.oversell_risk
-- entity: stock
-- severity: high
-- owner: merchandising
-- title: Centra can sell more than OrderWise has
-- remedy: Push the OrderWise figure to Centra (tally plan writes push_stock); find what changed stock outside the integration.
-- amount: the units Centra can oversell at the SKU's price.
-- Expected free = OrderWise units over the mapped locations - units of Centra orders not yet in
-- OrderWise (see stock_positions in _views.sql). A SKU OrderWise does not hold counts as 0.
select
    coalesce(n.sku, s.sku_key)                                    as sku,
    s.centra_warehouse                                            as warehouse,
    cast(s.centra_free as varchar)                                as centra_value,
    cast(s.expected_free as varchar)                              as orderwise_value,
    cast(s.expected_free - s.centra_free as varchar)              as difference,
    (s.centra_free - s.expected_free) * p.unit_price              as amount,
    p.currency                                                    as currency,
    format('{} in {}: Centra offers {} but OrderWise has {} free{}, so {} units could be sold that do not exist.',
           n.sku, s.centra_warehouse, s.centra_free, s.orderwise_units,
           case when s.in_flight > 0 then format(' less {} on orders not yet imported', s.in_flight) else '' end,
           s.centra_free - s.expected_free)                       as detail
from stock_positions s
left join sku_names n on n.sku_key = s.sku_key
left join sku_prices p on p.sku_key = s.sku_key
where s.centra_free is not null
  and s.centra_free > s.expected_free
