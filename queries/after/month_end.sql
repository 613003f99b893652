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
), parts as (
    select month, market, currency, order_ref,
           -- the OrderWise numbers, sorted once the group is known (an ordered string_agg would sort
           -- inside every one of the millions of groups, most of which agree and are dropped)
           list(orderwise_order_number) filter (where orderwise_order_number is not null) as orderwise_numbers,
           count(*) filter (where side = 'orderwise') - count(*) filter (where side = 'centra') as orders,
           sum(case when side = 'orderwise' then net else -net end)             as net,
           sum(case when side = 'orderwise' then vat else -vat end)             as vat,
           sum(case when side = 'orderwise' then gross else -gross end)         as gross,
           sum(case when side = 'orderwise' then discounts else -discounts end) as discounts,
           sum(case when side = 'orderwise' then shipping else -shipping end)   as shipping
    from period_sides
    group by month, market, currency, order_ref
    having orders <> 0 or net <> 0 or vat <> 0 or gross <> 0 or discounts <> 0 or shipping <> 0
), candidates as (
    select p.month, p.market, p.currency, p.order_ref, x.priority, x.check_name
    from parts p
    join exceptions e on e.key = p.order_ref
    join explaining x on x.check_name = e."check"
    union all
    select p.month, p.market, p.currency, p.order_ref, x.priority, x.check_name
    from period_sides s
    join exceptions e on e.key = s.orderwise_order_number
    join explaining x on x.check_name = e."check"
    join parts p on p.month = s.month and p.market = s.market and p.currency = s.currency
                and p.order_ref = s.order_ref
), reasons as (
    select month, market, currency, order_ref, arg_min(check_name, priority) as reason
    from candidates group by month, market, currency, order_ref
)
select
    p.month, p.market, p.currency, p.order_ref,
    array_to_string(list_sort(p.orderwise_numbers), ', ') as orderwise_orders,
    p.orders, p.net, p.vat, p.gross, p.discounts, p.shipping,
    coalesce(r.reason,
             case when c.created_at >= prm.settle_cutoff then 'settling'
                  when p.orders = 0
                   and greatest(abs(p.net), abs(p.vat), abs(p.gross), abs(p.discounts), abs(p.shipping))
                       <= prm.money_tolerance then 'rounding'
                  else 'unexplained' end) as reason
from parts p
cross join params prm
left join reasons r on r.month = p.month and r.market = p.market and r.currency = p.currency
                   and r.order_ref = p.order_ref
left join centra_order_figures c on c.order_key = p.order_ref
order by p.month, p.market, p.currency, p.order_ref;
