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
    join ow_despatches d on d.order_id = m.orderwise_order_id
    where d.tracking_number is null or trim(d.tracking_number) = ''
    union
    select m.number, 'Centra shipment ' || s.number as side
    from untracked m
    join centra_shipments s on s.order_number = m.number and s.is_shipped
    where s.tracking_number is null or trim(s.tracking_number) = ''
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
