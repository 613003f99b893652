-- check: order.duplicated_in_orderwise
-- entity: order
-- severity: high
-- owner: operations
-- title: One Centra order exists more than once in OrderWise
-- remedy: Cancel the extra OrderWise orders before they are picked and invoiced twice.
-- amount: the order's gross once for each extra live copy: booked again for nothing.
with live as (     -- live OrderWise orders that carry a Centra order number
    select external_ref_key, order_id, order_number
    from ow_orders
    where external_ref_key is not null and status <> 'Cancelled'
), copies as (     -- the numbers carried more than once, then their copies listed
    select l.external_ref_key,
           count(*)                                            as n,
           string_agg(l.order_number, ', ' order by l.order_id) as order_numbers
    from live l
    where l.external_ref_key in (select external_ref_key from live
                                 group by external_ref_key having count(*) > 1)
    group by l.external_ref_key
)
select
    c.order_key                                                   as order_number,
    c.market                                                      as market,
    c.created_at                                                  as occurred_at,
    '1'                              as centra_value,
    cast(d.n as varchar)             as orderwise_value,
    cast(d.n - 1 as varchar)         as difference,
    c.gross_total * (d.n - 1)        as amount,     -- booked again for nothing
    c.currency                       as currency,
    format('Centra order {} ({} {}) exists {} times in OrderWise: {}.',
           c.number, money_text(c.gross_total), c.currency, d.n, d.order_numbers) as detail
from copies d
join centra_order_figures c on c.order_key = d.external_ref_key
