-- check: order.currency_mismatch
-- entity: order
-- severity: high
-- owner: finance
-- title: Order booked in a different currency in OrderWise
-- remedy: Correct the currency on the OrderWise order and check the session's currency settings.
-- amount: Centra's gross: the whole order is booked in the wrong money.
select
    m.order_key                                                   as order_number,
    m.orderwise_order_id                                          as ow_order_id,
    m.orderwise_order_number                                      as ow_order_number,
    m.market                                                      as market,
    m.centra_currency                as centra_value,
    m.orderwise_currency             as orderwise_value,
    null                             as difference,
    m.centra_gross                   as amount,     -- the whole order is booked in the wrong money
    m.centra_currency                as currency,
    format('Centra order {} is in {} but OrderWise order {} is in {}.',
           m.number, m.centra_currency, m.orderwise_order_number, m.orderwise_currency) as detail
from disagreeing_orders m
where m.centra_currency <> m.orderwise_currency
  and m.orderwise_status <> 'Cancelled'
