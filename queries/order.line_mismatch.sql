-- check: order.line_mismatch
-- entity: order_line
-- severity: medium
-- owner: operations
-- title: Ordered quantity of a SKU differs, or the SKU is on one side only
-- remedy: Correct the OrderWise order lines to Centra's; check the import mapping for the SKU.
-- amount: none: a quantity; its money shows in the order's total checks.
select
    q.order_key                                                   as order_number,
    coalesce(n.sku, q.sku_key)                                    as sku,
    coalesce(cast(q.centra_qty as varchar), '(none)')            as centra_value,
    coalesce(cast(cast(q.orderwise_qty as integer) as varchar), '(none)') as orderwise_value,
    cast(cast(coalesce(q.orderwise_qty, 0) - coalesce(q.centra_qty, 0) as integer) as varchar) as difference,
    null                                                         as amount,
    null                                                         as currency,
    case
        when q.orderwise_qty is null then format('Order {}: Centra orders {} x {} but the OrderWise order has no line for it.', q.number, q.centra_qty, n.sku)
        when q.centra_qty is null then format('Order {}: OrderWise has {} x {} but the Centra order has no such line.', q.number, cast(q.orderwise_qty as integer), n.sku)
        else format('Order {}: Centra orders {} x {} but OrderWise requires {}.', q.number, q.centra_qty, n.sku, cast(q.orderwise_qty as integer))
    end                                                          as detail
from order_line_quantities q
left join sku_names n on n.sku_key = q.sku_key
where coalesce(q.centra_qty, 0) <> coalesce(q.orderwise_qty, 0)
