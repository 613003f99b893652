-- check: order.discount_mismatch
-- entity: order
-- severity: medium
-- owner: finance
-- title: Discount differs between Centra and OrderWise
-- remedy: Check how vouchers are posted to OrderWise and correct the order's discount.
-- A difference within rules.money_tolerance is rounding, not drift.
select
    m.order_key                                          as key,
    money_text(m.centra_discount)                          as centra_value,
    money_text(m.orderwise_discount)                       as orderwise_value,
    money_text(m.orderwise_discount - m.centra_discount)     as difference,
    abs(m.orderwise_discount - m.centra_discount)            as amount,
    m.centra_currency                                    as currency,
    format('Order {}: the discount total is {} {} in Centra but {} in OrderWise order {}.',
           m.number, money_text(m.centra_discount), m.centra_currency,
           money_text(m.orderwise_discount), m.orderwise_order_number) as detail
from comparable_orders m, params p
where abs(m.orderwise_discount - m.centra_discount) > p.money_tolerance
