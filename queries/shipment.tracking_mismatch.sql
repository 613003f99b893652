-- check: shipment.tracking_mismatch
-- entity: shipment
-- severity: medium
-- owner: operations
-- title: Tracking numbers differ between Centra and OrderWise
-- remedy: Copy the consignment number from the OrderWise despatch to the Centra shipment.
-- amount: none.
-- A Centra tracking number must be one of the order's OrderWise despatch numbers (trimmed, any case).
with centra as (   -- joined on the order's number: an integer key, not its text
    select m.number, m.orderwise_order_id, trim(s.tracking_number) as tracking
    from live_orders m join centra_shipments s on s.order_number = m.number and s.is_shipped
    where trim(s.tracking_number) <> ''   -- (a null number is not compared)
), unknown as (   -- Centra numbers none of the order's despatches carry
    select c.number, c.orderwise_order_id, string_agg(c.tracking, ', ' order by c.tracking) as tracking
    from centra c
    where not exists (select 1 from ow_despatches d
                      where d.order_id = c.orderwise_order_id
                        and upper(trim(d.tracking_number)) = upper(c.tracking))
    group by c.number, c.orderwise_order_id
), orderwise_by_order as (   -- the despatch numbers, listed for those orders only
    select u.number, string_agg(upper(trim(d.tracking_number)), ', ' order by upper(trim(d.tracking_number))) as tracking
    from unknown u join ow_despatches d on d.order_id = u.orderwise_order_id
    where trim(d.tracking_number) <> ''
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
