-- check: shipment.unmapped_carrier
-- entity: carrier
-- severity: medium
-- owner: ecommerce
-- title: Delivery method with no Centra carrier mapping
-- remedy: Add the delivery method to tally.toml [[carriers]] with Centra's carrier and service names.
-- amount: none.
select
    d.delivery_method                                             as delivery_method,
    min(d.despatched_at)                                          as occurred_at,
    null                                                          as centra_value,
    cast(count(*) as varchar) || ' despatches'                    as orderwise_value,
    null                                                          as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('OrderWise delivery method "{}" ({} web despatches, first {}) has no Centra carrier and service mapped, so shipments cannot be created for it.',
           d.delivery_method, count(*), strftime(min(d.despatched_at), '%Y-%m-%d')) as detail
from ow_despatches d
join ow_orders o on o.order_id = d.order_id
where o.session_id in (select session_id from web_sessions)
  and d.delivery_method is not null
  and d.delivery_method not in (select orderwise_delivery_method from cfg_carriers)
group by d.delivery_method
