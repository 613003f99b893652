-- suspect_orders in SQL, for running the catalogue on another engine (README.md, "Past one
-- machine"): run this where queries/_views.sql declares the table empty. tally fills it in Rust
-- instead (src/reconcile/order_checksums.rs: at 10M orders this SQL took 13 to 18 s, the Rust
-- about 3). This is the SQL tally ran until then, and tests/pipeline.rs checks that the two find
-- the same orders without a tracking number, and the same orders whose items differ (beyond the
-- SQL's, the Rust also finds orders with a blank tracking number, which are suspects for that
-- reason anyway). tally does not run this file.
--
-- Each system's items of each order (ordered SKUs, shipped SKUs, tracking numbers), each quantity
-- times a 64-bit hash of its kind and its SKU or number, added up per order exactly (128-bit
-- integers); the live orders whose two sums differ, or with a shipment or despatch without a
-- number. Spark SQL: `xxhash64(kind, item)` for `hash(kind, item)`, summed as DECIMAL(38, 0).
create or replace table suspect_orders as
with centra as (   -- kind: 1 ordered, 2 shipped, 3 a tracking number, 4 a shipment without one
    select number, sum(cast(hash(kind, item) as hugeint) * quantity) filter (where kind < 4) as checksum,
           count(*) filter (where kind = 4) as untracked
    from (
        select order_number as number, 1 as kind, sku_key as item, quantity
        from centra_order_lines
        where sku_key is not null
        union all
        select order_number, 2, sku_key, quantity
        from centra_shipped_lines
        union all
        select order_number, case when has_tracking then 3 else 4 end, tracking_number, 1
        from centra_shipped_tracking
    )
    group by number
), orderwise as (  -- the same kinds
    select order_id, sum(cast(hash(kind, item) as hugeint) * quantity) filter (where kind < 4) as checksum,
           count(*) filter (where kind = 4) as untracked
    from (
        select order_id, 1 as kind, sku_key as item, qty_required as quantity
        from ow_order_lines
        union all            -- despatched, whatever their age
        select d.order_id, 2, dl.sku_key, dl.qty
        from ow_despatch_lines dl
        join ow_despatches d on d.despatch_id = dl.despatch_id
        union all
        select order_id, case when has_tracking then 3 else 4 end, tracking_number, 1
        from despatch_tracking
    )
    group by order_id
), compared as (
    select m.number, m.orderwise_order_id,
           coalesce(c.checksum, 0) <> coalesce(o.checksum, 0)           as differs,
           coalesce(c.untracked, 0) + coalesce(o.untracked, 0) > 0       as tracking_missing
    from live_orders m
    left join centra c on c.number = m.number
    left join orderwise o on o.order_id = m.orderwise_order_id
)
select * from compared where differs or tracking_missing;
