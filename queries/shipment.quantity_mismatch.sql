-- check: shipment.quantity_mismatch
-- entity: shipment_line
-- severity: medium
-- owner: operations
-- title: Quantities shipped differ between Centra and OrderWise
-- remedy: Check what left the warehouse and correct the Centra shipment or the OrderWise despatch.
-- amount: none: units; the order's money is checked by the order checks.
-- Once Centra has shipped anything of the order, its shipped quantity of each SKU must lie between
-- the quantity on despatches older than the SLA and the quantity on all despatches: Centra may lag
-- by young despatches, never by old ones, and never lead. An order Centra never shipped is
-- shipment.not_updated_in_centra instead, not repeated here SKU by SKU.
select
    q.order_key                                                   as order_number,
    coalesce(n.sku, q.sku_key)                                    as sku,
    cast(q.centra_shipped as varchar)                             as centra_value,
    cast(cast(q.orderwise_despatched as integer) as varchar)      as orderwise_value,
    cast(cast(q.orderwise_despatched - q.centra_shipped as integer) as varchar) as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('Order {}: Centra shows {} x {} shipped but OrderWise despatched {}.',
           q.order_key, q.centra_shipped, n.sku, cast(q.orderwise_despatched as integer)) as detail
from shipment_quantities q
left join sku_names n on n.sku_key = q.sku_key
where (q.centra_shipped > q.orderwise_despatched or q.centra_shipped < q.orderwise_despatched_before_sla)
  and q.order_key not in (select order_key from shipments_behind)
