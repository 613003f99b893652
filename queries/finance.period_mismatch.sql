-- check: finance.period_mismatch
-- entity: period
-- severity: high
-- owner: finance
-- title: Month totals differ between Centra and OrderWise
-- remedy: Explain the difference with this month's order exceptions (missing, duplicated, mismatched, cut-off) before closing.
-- amount: the absolute difference of the month's gross; not in the headline: its orders count themselves.
-- Centra: the orders OrderWise should have, in mapped markets, by local month of orderDate.
-- OrderWise: orders in mapped sessions that are not Cancelled, by local month of order_datetime,
-- attributed to the market(s) of their session. The order count must agree; gross (what customers
-- paid) within money_tolerance on the month's total; net and VAT may differ by rounding up to
-- money_tolerance per order (OrderWise splits VAT per line at four decimals).
-- The totals come from period_totals (queries/_views.sql), which the month-end report shows too.
select
    b.month                                                       as period,
    b.market                                                      as market,
    format('{} orders, gross {}', b.c_orders, money_text(b.c_gross)) as centra_value,
    format('{} orders, gross {}', b.o_orders, money_text(b.o_gross)) as orderwise_value,
    money_text(b.o_gross - b.c_gross)                             as difference,
    abs(b.o_gross - b.c_gross)                                    as amount,
    b.currency                                                    as currency,
    format('{} {} in {}: Centra has {} orders (net {}, VAT {}, gross {}), OrderWise {} (net {}, VAT {}, gross {}).',
           b.month, b.market, b.currency, b.c_orders, money_text(b.c_net), money_text(b.c_vat), money_text(b.c_gross),
           b.o_orders, money_text(b.o_net), money_text(b.o_vat), money_text(b.o_gross)) as detail
from period_totals b, params p
where b.c_orders <> b.o_orders
   or abs(b.c_net - b.o_net) > p.money_tolerance * greatest(b.c_orders, b.o_orders)
   or abs(b.c_vat - b.o_vat) > p.money_tolerance * greatest(b.c_orders, b.o_orders)
   or abs(b.c_gross - b.o_gross) > p.money_tolerance
