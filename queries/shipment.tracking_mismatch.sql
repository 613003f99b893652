-- check: shipment.tracking_mismatch
-- entity: shipment
-- severity: medium
-- owner: operations
-- title: Tracking numbers differ between Centra and OrderWise
-- remedy: Copy the consignment number from the OrderWise despatch to the Centra shipment.
-- A Centra tracking number must be one of the order's OrderWise despatch numbers (trimmed, any case).
with orderwise as (
    select m.order_key, upper(trim(d.tracking_number)) as tracking
    from live_orders m join ow_despatches d on d.order_id = m.orderwise_order_id
    where nullif(trim(d.tracking_number), '') is not null
), centra as (
    select m.order_key, trim(s.tracking_number) as tracking
    from live_orders m join centra_shipments s on s.order_number = m.number and s.is_shipped
    where nullif(trim(s.tracking_number), '') is not null
), unknown as (
    select c.order_key, string_agg(c.tracking, ', ' order by c.tracking) as centra_tracking
    from centra c
    where c.order_key in (select order_key from orderwise)
      and upper(c.tracking) not in (select tracking from orderwise o where o.order_key = c.order_key)
    group by c.order_key
)
select
    u.order_key                                                   as key,
    u.centra_tracking                                             as centra_value,
    (select string_agg(tracking, ', ' order by tracking) from orderwise o where o.order_key = u.order_key) as orderwise_value,
    null                                                          as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('Order {}: Centra shows tracking {} but OrderWise despatched under {}.', u.order_key, u.centra_tracking,
           (select string_agg(tracking, ', ' order by tracking) from orderwise o where o.order_key = u.order_key)) as detail
from unknown u
