-- check: order.shipping_mismatch
-- entity: order
-- severity: medium
-- owner: finance
-- title: Shipping charge differs between Centra and OrderWise
-- remedy: Check the delivery charge posted to OrderWise and correct it.
-- amount: the absolute difference of the shipping charges.
-- A difference within rules.money_tolerance is rounding, not drift.
select
    m.order_key                                                   as order_number,
    m.orderwise_order_id                                          as ow_order_id,
    m.orderwise_order_number                                      as ow_order_number,
    m.market                                                      as market,
    money_text(m.centra_shipping)                          as centra_value,
    money_text(m.orderwise_shipping)                       as orderwise_value,
    money_text(m.orderwise_shipping - m.centra_shipping)     as difference,
    abs(m.orderwise_shipping - m.centra_shipping)            as amount,
    m.centra_currency                                    as currency,
    format('Order {}: the shipping charge is {} {} in Centra but {} in OrderWise order {}.',
           m.number, money_text(m.centra_shipping), m.centra_currency,
           money_text(m.orderwise_shipping), m.orderwise_order_number) as detail
from money_differences m, params p
where abs(m.orderwise_shipping - m.centra_shipping) > p.money_tolerance
