-- After the checks: each order's part in the month-end difference (OrderWise minus Centra) of its
-- month, market and currency, with the reason for it. A line's parts add up to its difference
-- (period_totals), so the month-end report's explanations reconcile to it by construction.
-- The reason is the order exception that explains the part (the first in the list below); where
-- none does: 'settling' (Centra placed it inside the settle window, so Centra's side leaves it
-- out), 'rounding' (every figure within money_tolerance), else 'unexplained'.
create table period_orders as
with explaining(check_name, priority) as (
    values ('order.missing_in_orderwise', 1), ('order.unexpected_in_orderwise', 2),
           ('order.duplicated_in_orderwise', 3), ('order.cancelled_but_open', 4),
           ('finance.period_cutoff', 5), ('order.currency_mismatch', 6),
           ('order.total_mismatch', 7), ('order.tax_mismatch', 8),
           ('order.discount_mismatch', 9), ('order.shipping_mismatch', 10)
), unsettled as (
    -- The order references whose parts may not all be zero: those order_matches flags (a
    -- reference both systems count once, with the same values, has no part), and the numbers of
    -- the OrderWise orders that carry no reference, which count under their own number. A
    -- superset: only these are summed exactly (10M orders: 312,766 references, 0.06 s, where a
    -- checksum of every reference's rows took 3.4 to 4.0 s).
    select order_key as order_ref from order_matches where month_end_differs
    union
    select w.order_number from ow_orders w
    where w.external_ref_key is null and w.status <> 'Cancelled'
      and w.session_id in (select orderwise_session from session_markets)
), parts as (
    select month, market, currency, order_ref,
           count(*) filter (where side = 'orderwise') - count(*) filter (where side = 'centra') as orders,
           sum(case when side = 'orderwise' then net else -net end)             as net,
           sum(case when side = 'orderwise' then vat else -vat end)             as vat,
           sum(case when side = 'orderwise' then gross else -gross end)         as gross,
           sum(case when side = 'orderwise' then discounts else -discounts end) as discounts,
           sum(case when side = 'orderwise' then shipping else -shipping end)   as shipping
    from (   -- Centra's side picked by its number too, so the filter reaches the Parquet scan
             -- (10M orders: 6.05 and 6.06 s against 5.64 and 5.72 s for the whole statement)
        select * exclude (number) from centra_period_sides
        where number in (select try_cast(order_ref as bigint) from unsettled)
        union all
        select * from orderwise_period_sides
    )
    where order_ref in (select order_ref from unsettled)
    group by month, market, currency, order_ref
    having orders <> 0 or net <> 0 or vat <> 0 or gross <> 0 or discounts <> 0 or shipping <> 0
), orderwise_parts as (
    -- The OrderWise orders of the differing parts only: their numbers are listed, and exceptions
    -- keyed by them explain their part. Found after the aggregate, from ow_orders, rather than
    -- carried through it: a list per group of ten million, most of them dropped, cost more than
    -- this second look at one file (10M orders: 28.8 -> 15.3 s).
    select p.month, p.market, p.currency, p.order_ref, w.order_number
    from ow_orders w
    join session_markets s on s.orderwise_session = w.session_id
    join parts p on p.order_ref = coalesce(w.external_ref_key, w.order_number)
                and p.month = w.order_month and p.market = s.market and p.currency = w.currency_code
    where w.status <> 'Cancelled'
), numbers as (
    select month, market, currency, order_ref,
           array_to_string(list_sort(list(order_number)), ', ') as orderwise_orders
    from orderwise_parts
    group by month, market, currency, order_ref
), candidates as (
    select p.month, p.market, p.currency, p.order_ref, x.priority, x.check_name
    from parts p
    join exceptions e on e.key = p.order_ref
    join explaining x on x.check_name = e."check"
    union all   -- exceptions keyed by an OrderWise number (an unexpected or duplicate copy)
    select w.month, w.market, w.currency, w.order_ref, x.priority, x.check_name
    from exceptions e
    join explaining x on x.check_name = e."check"
    join orderwise_parts w on w.order_number = e.key
), reasons as (
    select month, market, currency, order_ref, arg_min(check_name, priority) as reason
    from candidates group by month, market, currency, order_ref
)
select
    p.month, p.market, p.currency, p.order_ref,
    n.orderwise_orders,
    p.orders, p.net, p.vat, p.gross, p.discounts, p.shipping,
    coalesce(r.reason,
             case when c.order_key is not null then 'settling'
                  when p.orders = 0
                   and greatest(abs(p.net), abs(p.vat), abs(p.gross), abs(p.discounts), abs(p.shipping))
                       <= prm.money_tolerance then 'rounding'
                  else 'unexplained' end) as reason
from parts p
cross join params prm
left join reasons r on r.month = p.month and r.market = p.market and r.currency = p.currency
                   and r.order_ref = p.order_ref
left join numbers n on n.month = p.month and n.market = p.market and n.currency = p.currency
                   and n.order_ref = p.order_ref
left join (   -- Centra orders placed inside the settle window: few, so a small join
    select o.order_key from centra_order_figures o, params x where o.created_at >= x.settle_cutoff
) c on c.order_key = p.order_ref
order by p.month, p.market, p.currency, p.order_ref;
