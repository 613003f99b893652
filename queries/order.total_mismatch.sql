-- check: order.total_mismatch
-- entity: order
-- severity: high
-- owner: finance
-- title: Gross total differs between Centra and OrderWise
-- remedy: Correct the OrderWise order to Centra's values; Centra is the source of truth for order values.
-- amount: the absolute difference of the grand totals.
-- A difference within rules.money_tolerance is rounding, not drift.
select
    m.order_key                                                   as order_number,
    m.orderwise_order_id                                          as ow_order_id,
    m.orderwise_order_number                                      as ow_order_number,
    m.market                                                      as market,
    money_text(m.centra_gross)                          as centra_value,
    money_text(m.orderwise_gross)                       as orderwise_value,
    money_text(m.orderwise_gross - m.centra_gross)     as difference,
    abs(m.orderwise_gross - m.centra_gross)            as amount,
    m.centra_currency                                    as currency,
    format('Order {}: the grand total including VAT is {} {} in Centra but {} in OrderWise order {}.',
           m.number, money_text(m.centra_gross), m.centra_currency,
           money_text(m.orderwise_gross), m.orderwise_order_number) as detail
from money_differences m, params p
where abs(m.orderwise_gross - m.centra_gross) > p.money_tolerance
