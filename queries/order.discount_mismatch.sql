-- check: order.discount_mismatch
-- entity: order
-- severity: medium
-- owner: finance
-- title: Discount differs between Centra and OrderWise
-- remedy: Check how vouchers are posted to OrderWise and correct the order's discount.
-- amount: the absolute difference of the discount totals.
-- A difference within rules.money_tolerance is rounding, not drift.
select
    m.order_key                                                   as order_number,
    m.orderwise_order_id                                          as ow_order_id,
    m.orderwise_order_number                                      as ow_order_number,
    m.market                                                      as market,
    money_text(m.centra_discount)                          as centra_value,
    money_text(m.orderwise_discount)                       as orderwise_value,
    money_text(m.orderwise_discount - m.centra_discount)     as difference,
    abs(m.orderwise_discount - m.centra_discount)            as amount,
    m.centra_currency                                    as currency,
    format('Order {}: the discount total is {} {} in Centra but {} in OrderWise order {}.',
           m.number, money_text(m.centra_discount), m.centra_currency,
           money_text(m.orderwise_discount), m.orderwise_order_number) as detail
from money_differences m, params p
where abs(m.orderwise_discount - m.centra_discount) > p.money_tolerance
