-- check: shipment.tracking_mismatch
-- entity: shipment
-- severity: medium
-- owner: operations
-- title: Tracking numbers differ between Centra and OrderWise
-- remedy: Copy the consignment number from the OrderWise despatch to the Centra shipment.
-- amount: none.
-- A Centra tracking number must be one of the order's OrderWise despatch numbers (trimmed, any case).
with suspects as (   -- the orders whose tracking numbers may disagree (queries/_views.sql)
    select number, orderwise_order_id from suspect_orders where differs
), centra as (   -- a missing number is not compared (shipment.missing_tracking reports it)
    select m.number, m.orderwise_order_id, s.tracking, s.tracking_key
    from suspects m join centra_shipped_tracking s on s.order_number = m.number
    where s.has_tracking
), despatched as (   -- those orders' despatch numbers, as compared
    select d.order_id, d.tracking_key as tracking
    from suspects m join despatch_tracking d on d.order_id = m.orderwise_order_id
    where d.has_tracking
), unknown as (   -- Centra numbers none of the order's despatches carry
    select c.number, c.orderwise_order_id, string_agg(c.tracking, ', ' order by c.tracking) as tracking
    from centra c
    where not exists (select 1 from despatched d
                      where d.order_id = c.orderwise_order_id and d.tracking = c.tracking_key)
    group by c.number, c.orderwise_order_id
), orderwise_by_order as (
    select u.number, string_agg(d.tracking, ', ' order by d.tracking) as tracking
    from unknown u join despatched d on d.order_id = u.orderwise_order_id
    group by u.number
)
select
    cast(u.number as varchar)                                     as order_number,
    u.tracking                                                    as centra_value,
    o.tracking                                                    as orderwise_value,
    null                                                          as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('Order {}: Centra shows tracking {} but OrderWise despatched under {}.', u.number, u.tracking, o.tracking) as detail
from unknown u
join orderwise_by_order o on o.number = u.number
