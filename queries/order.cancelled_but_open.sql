-- check: order.cancelled_but_open
-- entity: order
-- severity: high
-- owner: operations
-- title: Order cancelled in Centra is still open in OrderWise
-- remedy: Cancel the OrderWise order before it is picked and shipped to a customer who was refunded.
-- amount: the OrderWise order's gross: still to be picked and invoiced though cancelled.
select
    m.order_key                                                   as order_number,
    m.orderwise_order_id                                          as ow_order_id,
    m.orderwise_order_number                                      as ow_order_number,
    m.market                                                      as market,
    m.centra_status                  as centra_value,
    m.orderwise_status               as orderwise_value,
    null                             as difference,
    m.orderwise_gross                as amount,
    m.orderwise_currency             as currency,
    format('Centra order {} is CANCELLED but OrderWise order {} is still "{}" ({} {}).',
           m.number, m.orderwise_order_number, m.orderwise_status,
           money_text(m.orderwise_gross), m.orderwise_currency) as detail
from disagreeing_orders m
where m.centra_status = 'CANCELLED'
  and m.orderwise_status not in ('Despatched', 'Cancelled')
