-- check: order.duplicated_in_orderwise
-- entity: order
-- severity: high
-- owner: operations
-- title: One Centra order exists more than once in OrderWise
-- remedy: Cancel the extra OrderWise orders before they are picked and invoiced twice.
-- amount: the order's gross once for each extra live copy: booked again for nothing.
with copies as (   -- the Centra orders with more than one live copy: every one disagrees
    select m.number, m.order_key, m.orderwise_live_copies as n, m.market, m.centra_created_at,
           m.centra_gross, m.centra_currency
    from disagreeing_orders m
    where m.orderwise_live_copies > 1
), listed as (     -- then only their copies listed
    select w.external_ref_key, string_agg(w.order_number, ', ' order by w.order_id) as order_numbers
    from ow_orders w
    where w.status <> 'Cancelled'
      and w.external_ref_key in (select order_key from copies)
    group by w.external_ref_key
)
select
    d.order_key                                                   as order_number,
    d.market                                                      as market,
    d.centra_created_at                                           as occurred_at,
    '1'                              as centra_value,
    cast(d.n as varchar)             as orderwise_value,
    cast(d.n - 1 as varchar)         as difference,
    d.centra_gross * (d.n - 1)       as amount,     -- booked again for nothing
    d.centra_currency                as currency,
    format('Centra order {} ({} {}) exists {} times in OrderWise: {}.',
           d.number, money_text(d.centra_gross), d.centra_currency, d.n, l.order_numbers) as detail
from copies d
join listed l on l.external_ref_key = d.order_key
