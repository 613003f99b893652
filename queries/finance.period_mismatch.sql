-- check: finance.period_mismatch
-- entity: period
-- severity: high
-- owner: finance
-- title: Month totals differ between Centra and OrderWise
-- remedy: Explain the difference with this month's order exceptions (missing, duplicated, mismatched, cut-off) before closing.
-- Centra: the orders OrderWise should have, in mapped markets, by local month of orderDate.
-- OrderWise: orders in mapped sessions that are not Cancelled, by local month of order_datetime,
-- attributed to the market(s) of their session. Sums may differ by rounding up to
-- money_tolerance per order.
with session_markets as (
    select orderwise_session, string_agg(centra_market, ' + ' order by centra_market) as market
    from cfg_markets group by orderwise_session
), centra as (
    select e.order_month as month, s.market, e.currency,
           count(*) as orders, sum(e.net) as net, sum(e.vat_total) as vat, sum(e.gross_total) as gross
    from expected_orders e
    join cfg_markets m on m.centra_market = e.market
    join session_markets s on s.orderwise_session = m.orderwise_session
    group by all
), orderwise as (
    select w.order_month as month, s.market, w.currency_code as currency,
           count(*) as orders, sum(w.total_net) as net, sum(w.total_vat) as vat, sum(w.total_gross) as gross
    from ow_orders w
    join session_markets s on s.orderwise_session = w.session_id
    where w.status <> 'Cancelled'
    group by all
), both_sides as (
    select coalesce(c.month, o.month) as month, coalesce(c.market, o.market) as market,
           coalesce(c.currency, o.currency) as currency,
           coalesce(c.orders, 0) as c_orders, coalesce(o.orders, 0) as o_orders,
           coalesce(c.net, 0) as c_net, coalesce(o.net, 0) as o_net,
           coalesce(c.vat, 0) as c_vat, coalesce(o.vat, 0) as o_vat,
           coalesce(c.gross, 0) as c_gross, coalesce(o.gross, 0) as o_gross
    from centra c
    full join orderwise o on o.month = c.month and o.market = c.market and o.currency = c.currency
)
select
    b.month || ':' || b.market || ':' || b.currency               as key,
    format('{} orders, gross {}', b.c_orders, money_text(b.c_gross)) as centra_value,
    format('{} orders, gross {}', b.o_orders, money_text(b.o_gross)) as orderwise_value,
    money_text(b.o_gross - b.c_gross)                             as difference,
    abs(b.o_gross - b.c_gross)                                    as amount,
    b.currency                                                    as currency,
    format('{} {} in {}: Centra has {} orders (net {}, VAT {}, gross {}), OrderWise {} (net {}, VAT {}, gross {}).',
           b.month, b.market, b.currency, b.c_orders, money_text(b.c_net), money_text(b.c_vat), money_text(b.c_gross),
           b.o_orders, money_text(b.o_net), money_text(b.o_vat), money_text(b.o_gross)) as detail
from both_sides b, params p
where b.c_orders <> b.o_orders
   or abs(b.c_net - b.o_net) > p.money_tolerance * greatest(b.c_orders, b.o_orders)
   or abs(b.c_vat - b.o_vat) > p.money_tolerance * greatest(b.c_orders, b.o_orders)
   or abs(b.c_gross - b.o_gross) > p.money_tolerance * greatest(b.c_orders, b.o_orders)
