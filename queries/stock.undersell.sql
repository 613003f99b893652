-- check: stock.undersell
-- entity: stock
-- severity: medium
-- owner: merchandising
-- title: Centra shows less stock than OrderWise can sell
-- remedy: Push the OrderWise figure to Centra (tally plan writes push_stock).
-- amount: the units Centra does not offer at the SKU's price: sales that cannot happen.
select
    coalesce(n.sku, s.sku_key)                                    as sku,
    s.centra_warehouse                                            as warehouse,
    cast(s.centra_free as varchar)                                as centra_value,
    cast(s.expected_free as varchar)                              as orderwise_value,
    cast(s.expected_free - s.centra_free as varchar)              as difference,
    (s.expected_free - s.centra_free) * p.unit_price              as amount,
    p.currency                                                    as currency,
    format('{} in {}: Centra offers {} but OrderWise could sell {}: {} units of lost sales.',
           n.sku, s.centra_warehouse, s.centra_free, s.expected_free, s.expected_free - s.centra_free) as detail
from stock_positions s
left join sku_names n on n.sku_key = s.sku_key
left join sku_prices p on p.sku_key = s.sku_key
where s.centra_free is not null
  and s.centra_free < s.expected_free
