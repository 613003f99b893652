-- check: shipment.missing_tracking
-- entity: shipment
-- severity: low
-- owner: operations
-- title: Despatch or shipment without a tracking number
-- remedy: Add the consignment number to the OrderWise despatch and the Centra shipment.
-- amount: none.
with untracked as (   -- the orders with a shipment or despatch lacking one (queries/_views.sql)
    select number, orderwise_order_id from suspect_orders where tracking_missing
), missing as (
    select m.number, 'OrderWise despatch' as side
    from untracked m
    join despatch_tracking d on d.order_id = m.orderwise_order_id
    where not d.has_tracking
    union
    select m.number, 'Centra shipment ' || s.shipment_number as side
    from untracked m
    join centra_shipped_tracking s on s.order_number = m.number
    where not s.has_tracking
)
select
    cast(number as varchar)                                       as order_number,
    null                                                          as centra_value,
    null                                                          as orderwise_value,
    null                                                          as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('Order {}: {} has no tracking number.', number, string_agg(side, ' and ' order by side)) as detail
from missing
group by number
