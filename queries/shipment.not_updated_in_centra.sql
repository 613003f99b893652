-- check: shipment.not_updated_in_centra
-- entity: shipment
-- severity: high
-- owner: operations
-- title: Despatched in OrderWise, not shipped in Centra
-- remedy: Create and complete the shipment in Centra with the tracking number (tally plan writes create_shipment).
-- amount: none: the order's money is not in question, its status is.
-- Despatches older than rules.shipment_sla_hours and no shipped Centra shipment at all (see
-- shipments_behind); an order Centra shipped in part is compared SKU by SKU instead.
select
    b.order_key                                                   as order_number,
    cast(b.centra_shipped as varchar) || ' shipped'               as centra_value,
    cast(cast(b.despatched_before_sla as integer) as varchar) || ' despatched' as orderwise_value,
    cast(cast(b.despatched_before_sla - b.centra_shipped as integer) as varchar) as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('Order {}: OrderWise despatched {} units more than {} hours ago but Centra shows {} shipped, so the customer has no shipping confirmation.',
           b.order_key, cast(b.despatched_before_sla as integer), p.sla_hours, b.centra_shipped) as detail
from shipments_behind b, params p
