-- Shared views every check builds on. tally creates, before this file runs:
--   centra_orders, centra_order_lines, centra_shipments, centra_shipment_lines, centra_stock,
--   centra_products, centra_markets, centra_warehouses, ow_orders, ow_order_lines, ow_stock,
--   ow_despatches, ow_despatch_lines, ow_variants      (one view per Parquet file of the snapshot)
--   params(extracted_at, settle_cutoff, sla_cutoff, money_tolerance, sla_hours, stock_figure)
--     extracted_at     when the snapshot's extraction started; every age counts from it
--     settle_cutoff    extracted_at less rules.settle_minutes: younger orders are not expected yet
--     sla_cutoff       extracted_at less rules.shipment_sla_hours: younger despatches may lag
--     money_tolerance  rules.money_tolerance
--     sla_hours        rules.shipment_sla_hours, for the checks' sentences
--     stock_figure     stock.orderwise_figure: 'free' or 'overall'
--   cfg_markets(centra_market, orderwise_session, orderwise_customer, centra_warehouse)
--   cfg_warehouses(centra_warehouse, orderwise_location)
--   cfg_carriers(orderwise_delivery_method, centra_carrier, centra_service)
-- Files whose name starts with "_" are shared definitions, not checks. The heavier ones are
-- tables rather than views, so the checks that share them compute them once.

-- Money as people write it: at least two decimals, no trailing zeros beyond them (19.99, 33.3167).
create macro money_text(x) as
    regexp_replace(cast(cast(x as decimal(18, 4)) as varchar), '(\.\d\d[1-9]*)0+$', '\1');

-- Centra orders with the figures reconcile compares, named for what they are. A view: a copy of
-- every order's columns would be the session's largest table, and reading the Parquet file again
-- costs less than holding it.
create view centra_order_figures as
select
    o.*,
    cast(o.number as varchar)        as order_key,   -- meets OrderWise's external_ref
    o.gross                          as gross_total,
    o.tax_included + o.tax_added     as vat_total,
    -o.discounts                     as discount_total,
    o.shipping                       as shipping_total
from centra_orders o;

-- Whether a Centra order is placed and paid (not PENDING, not CANCELLED): one definition for the
-- orders OrderWise should have, the live ones and those the month-end totals count.
create macro placed_and_paid(status) as
    status in ('CONFIRMED', 'PROCESSING', 'SHIPPED');

-- The orders OrderWise should have: placed and paid and older than the settle window, measured
-- from the snapshot's extraction time.
create view expected_orders as
select o.*
from centra_order_figures o, params p
where placed_and_paid(o.status)
  and o.created_at < p.settle_cutoff;

-- OrderWise sessions that carry Centra's web orders.
create view web_sessions as
select distinct orderwise_session as session_id from cfg_markets;

-- Every Centra order, with the one OrderWise order its values are compared against where OrderWise
-- has one under its reference (null ids where it has none), and every reference OrderWise holds
-- that no Centra order carries (a null number). The checks for orders one side lacks pick those
-- rows rather than anti-join ten million orders (10M orders: order.missing_in_orderwise took 1.2 to
-- 1.4 s against 0.4 to 0.55 s, order.unexpected_in_orderwise 1.65 s against 0.66 s). The OrderWise
-- order compared is the first live (not cancelled) copy, so a duplicate is reported once, as a
-- duplicate, not as value drift. Beside it: how many live copies OrderWise holds
-- (order.duplicated_in_orderwise lists those with more); whether both are live; and whether they
-- disagree in a way an order check compares (`disagrees`): OrderWise's copy is not cancelled, and
-- Centra's is, or OrderWise holds more than one live copy, or the currency, the month or a money
-- figure differs at all (each check then applies its own rule and money_tolerance). A check
-- comparing another figure adds it there. And whether the reference's part in the month-end
-- totals may not be zero (`month_end_differs`): one side counts it there, and it is not the case
-- that Centra counts the order and OrderWise one live copy, in the same session, month and
-- currency with the same five figures. after/month_end.sql sums only these references exactly
-- (10M orders: a checksum of every reference's rows took 3.4 to 4.0 s there; the five more
-- columns this flag compares cost 0.5 to 0.8 s here). A superset: nulls and unmapped sessions
-- count as differing, and the exact sums then keep only the parts that are not zero. OrderWise
-- orders that carry no reference are not here: after/month_end.sql adds them.
-- Keys and flags only, no values: at 10M, writing each matched order's nineteen columns and then
-- scanning them for the few took 6.3 + 1.2 s against 4.3 + 0.8 s for this and disagreeing_orders,
-- and the run's peak fell from 3.4 to 2.4 GB.
create table order_matches as
with first_copy as (   -- one aggregate per external reference, not a sort of every copy
    select external_ref_key,
           coalesce(min(order_id) filter (where status <> 'Cancelled'), min(order_id)) as order_id,
           count(*) filter (where status <> 'Cancelled') as live_copies
    from ow_orders
    where external_ref_key is not null
    group by external_ref_key
), matches as (
    select
        coalesce(c.order_key, f.external_ref_key) as order_key,
        c.number,
        w.order_id               as orderwise_order_id,
        f.live_copies            as orderwise_live_copies,
        -- placed and paid in Centra, not cancelled in OrderWise
        placed_and_paid(c.status) and w.status <> 'Cancelled' as live,
        c.status = 'CANCELLED'   as centra_cancelled,
        w.status <> 'Cancelled'  as orderwise_live,
        -- a figure the order checks compare differs at all (null where one is missing)
        c.currency <> w.currency_code
          or c.order_month <> w.order_month
          or c.gross_total <> w.total_gross
          or c.vat_total <> w.total_vat
          or c.discount_total <> w.discount_gross
          or c.shipping_total <> w.delivery_gross as figures_differ,
        -- the two figures the month-end totals also compare
        m.orderwise_session = w.session_id and c.net = w.total_net as same_session_and_net,
        -- Centra counts the order in the month-end totals (as centra_period_sides does)
        coalesce(placed_and_paid(c.status) and c.created_at < p.settle_cutoff
                 and m.centra_market is not null, false) as centra_counts
    from centra_order_figures c
    full join first_copy f on f.external_ref_key = c.order_key
    left join ow_orders w on w.order_id = f.order_id
    left join cfg_markets m on m.centra_market = c.market
    cross join params p
)
select order_key, number, orderwise_order_id, orderwise_live_copies, live,
       number is not null and orderwise_live
         and (centra_cancelled or orderwise_live_copies > 1 or figures_differ) as disagrees,
       (centra_counts or coalesce(orderwise_live_copies, 0) > 0)
         -- not counted alike: Centra's order and OrderWise's one live copy, with the same values
         and not (centra_counts
                  and coalesce(orderwise_live_copies = 1 and orderwise_live and same_session_and_net
                               and not figures_differ, false)) as month_end_differs
from matches;

-- The Centra orders OrderWise has under their reference, in any form (any copy, any status).
create view matched_orders as
select * from order_matches where number is not null and orderwise_order_id is not null;

-- Matched orders live on both sides: their lines and shipments should agree.
create view live_orders as
select * from matched_orders where live;

-- The matched orders that disagree, with both systems' values: the order checks compare these few
-- (10M orders: 183,100) rather than every matched order. Also the times the cut-off and duplicate
-- checks quote, so that they need not read both order files again (10M orders: this table 0.85 to
-- 1.15 s -> 1.38 to 1.52 s, finance.period_cutoff 0.77 to 0.98 s -> 0.03 s,
-- order.duplicated_in_orderwise 1.04 to 1.36 s -> 0.75 to 0.78 s).
create table disagreeing_orders as
select
    m.order_key,
    m.number,
    c.status                 as centra_status,
    c.market,
    c.currency               as centra_currency,
    c.gross_total            as centra_gross,
    c.vat_total              as centra_vat,
    c.discount_total         as centra_discount,
    c.shipping_total         as centra_shipping,
    c.order_month            as centra_month,
    c.created_at             as centra_created_at,
    c.order_date_local       as centra_date_local,
    m.orderwise_order_id,
    w.order_number           as orderwise_order_number,
    w.status                 as orderwise_status,
    w.currency_code          as orderwise_currency,
    w.total_gross            as orderwise_gross,
    w.total_vat              as orderwise_vat,
    w.discount_gross         as orderwise_discount,
    w.delivery_gross         as orderwise_shipping,
    w.order_month            as orderwise_month,
    w.order_datetime_raw     as orderwise_datetime_raw,
    m.orderwise_live_copies,
    m.live
from matched_orders m
join centra_order_figures c on c.number = m.number
join ow_orders w on w.order_id = m.orderwise_order_id
where m.disagrees;

-- Disagreeing live orders in the same currency: the money checks compare their figures.
create view money_differences as
select * from disagreeing_orders where live and centra_currency = orderwise_currency;

-- SKUs are compared on sku_key (trimmed, case-folded): an exact match is also a key match, and a
-- match on the key alone is reported once by product.sku_format, then treated as the same SKU here.
-- The SKU shown is Centra's where Centra has it: the spelling of the first source below that has
-- the key, and of its spellings the first in byte order ("ABC-1" before "abc-1 "). The shown SKU is
-- part of the line and stock exceptions' keys, so the choice must not depend on which row a thread
-- met first: a key spelt two ways on OrderWise's lines would otherwise change its exceptions' keys
-- between two runs on the same snapshot (10M orders: 0.98 to 1.26 s before, 1.54 and 1.59 s with
-- each source's spellings reduced to the first). Every SKU of every line file is here, each with a
-- small integer id: the line comparisons aggregate on (order number, sku_id), two integers, rather
-- than on text.
create table sku_names as
select sku_key, arg_min(sku, priority) as sku,   -- one row per source and key: no ties
       cast(row_number() over (order by sku_key) as integer) as sku_id
from (
    select sku_key, min(sku) as sku, 1 as priority from centra_products group by sku_key
    union all select sku_key, min(sku), 2 from centra_stock group by sku_key
    union all select sku_key, min(sku), 3 from centra_order_lines where sku is not null group by sku_key
    union all select sku_key, min(sku), 4 from ow_variants group by sku_key
    union all select sku_key, min(sku), 5 from ow_stock group by sku_key
    union all select sku_key, min(sku), 6 from ow_order_lines group by sku_key
    union all select sku_key, min(sku), 7 from ow_despatch_lines group by sku_key
    union all select sku_key, min(sku), 8 from centra_shipment_lines group by sku_key
) where sku_key is not null
group by sku_key;

-- The lines of Centra's shipped shipments, under the order number each line carries. Every count
-- of shipped units reads this view, and the order checksums (suspect_orders, below) leave out the
-- same lines. Every line's shipment is in the snapshot: Centra returns each
-- shipment with its lines inside, tally writes them together (extraction and `sandbox
-- --write-snapshot`), and a refresh replaces an order's shipments and lines together. So the lines
-- of the few shipments not shipped are left out, rather than every line kept by a semi-join on the
-- ten million shipped ones (10M orders: Centra's checksum aggregate, then SQL, took 13.4 and
-- 13.5 s of CPU against 12.2 and 11.6 s).
create view centra_shipped_lines as
select order_number, shipment_id, order_line_id, sku_key, quantity
from centra_shipment_lines
where shipment_id not in (select shipment_id from centra_shipments
                          where is_shipped is not true and shipment_id is not null);

-- Units each Centra order line has shipped; `tally plan` reads it for the lines of the orders it
-- acts on.
create view centra_shipped_by_line as
select order_line_id, sum(quantity) as shipped
from centra_shipped_lines
group by order_line_id;

-- Units of Centra orders OrderWise does not have yet, still to ship, per SKU and the Centra
-- warehouse their market draws from: stock already promised, not drift. Shipped units are summed
-- for those orders' lines only, not for every shipment line.
create view in_flight_units as
with open_lines as (
    select m.centra_warehouse, l.line_id, l.sku_key, l.quantity
    from centra_order_figures o
    join cfg_markets m on m.centra_market = o.market
    join centra_order_lines l on l.order_number = o.number
    where o.status in ('CONFIRMED', 'PROCESSING')
      -- not in OrderWise in any form (any copy, any status)
      and o.number in (select number from order_matches where orderwise_order_id is null)
      and l.sku_key is not null
), shipped as (
    select order_line_id, sum(quantity) as shipped
    from centra_shipped_lines
    where order_line_id in (select line_id from open_lines)
    group by order_line_id
)
select o.centra_warehouse, o.sku_key, sum(o.quantity - coalesce(s.shipped, 0)) as units
from open_lines o
left join shipped s on s.order_line_id = o.line_id
group by o.centra_warehouse, o.sku_key;

-- OrderWise stock per SKU and Centra warehouse: the configured figure summed over the mapped
-- locations, each location's negative figure counted as 0 and fractions rounded down.
create view orderwise_units as
select m.centra_warehouse, s.sku_key,
       sum(floor(greatest(case when p.stock_figure = 'overall' then s.overall else s.free end, 0))) as units
from ow_stock s
join cfg_warehouses m on m.orderwise_location = s.location_name
cross join params p
group by m.centra_warehouse, s.sku_key;

-- What Centra's free-to-allocate should be per SKU and mapped warehouse, beside what it is. A
-- table: three stock checks read it.
create table stock_positions as
with centra as (
    select warehouse as centra_warehouse, sku_key, sum(free_to_allocate) as centra_free
    from centra_stock
    where warehouse in (select centra_warehouse from cfg_warehouses)
    group by warehouse, sku_key
)
select
    coalesce(c.centra_warehouse, w.centra_warehouse)                as centra_warehouse,
    coalesce(c.sku_key, w.sku_key)                                  as sku_key,
    c.centra_free,
    cast(coalesce(w.units, 0) as bigint)                            as orderwise_units,
    cast(coalesce(f.units, 0) as bigint)                            as in_flight,
    cast(coalesce(w.units, 0) - coalesce(f.units, 0) as bigint)     as expected_free
from centra c
full join orderwise_units w on w.sku_key = c.sku_key and w.centra_warehouse = c.centra_warehouse
left join in_flight_units f
       on f.sku_key = coalesce(c.sku_key, w.sku_key)
      and f.centra_warehouse = coalesce(c.centra_warehouse, w.centra_warehouse);

-- The order of events where two share a time: `event_time`, then the row's id (a line's, a
-- despatch's).
-- An `arg_max` on the time alone picks whichever of the tied rows a thread meets first, and two
-- such picks over the same rows need not come from the same row.
create macro recency(event_time, row_id) as
    cast(epoch_us(event_time) as hugeint) * 18446744073709551616 + row_id;

-- A price per SKU to value stock at risk: the Centra unit price, and its currency, of the latest
-- order line (by its order's date, then its id) with the SKU. Price and currency come from the one
-- line: at 10M orders, two orders placed in the same second, in EUR and in SEK, held the latest
-- line of a SKU, and ranked by the date alone the price could be taken from one and the currency
-- from the other. A table: three stock checks read it. Only the SKUs whose stock is off need one
-- (the stock checks report no other), so only their lines are joined to their orders.
create table sku_prices as
select l.sku_key,
       arg_max(l.unit_price, recency(o.order_date, l.line_id)) as unit_price,
       arg_max(o.currency, recency(o.order_date, l.line_id)) as currency
from centra_order_lines l
join centra_orders o on o.number = l.order_number
where l.sku_key in (select sku_key from stock_positions where centra_free is distinct from expected_free)
group by l.sku_key;

-- Whether a text has something in it once trimmed (false for null). A text that starts with a
-- printable ASCII character other than a space does, whatever follows, so only the others are
-- trimmed to find out: trimming every one of ten million tracking numbers cost more than reading
-- them (10M despatches: 0.70 to 0.92 s to count the blank ones against 0.30 to 0.37 s).
create macro has_text(x) as
    coalesce(case when ascii(x) between 33 and 126 then true else trim(x) <> '' end, false);

-- Tracking numbers as every check reads them: `tracking` trimmed (shown as written), `tracking_key`
-- also upper-cased (compared), `has_tracking` false where there is none or it is blank (has_text:
-- suspect_orders, filled in Rust, asks it too).
create view centra_shipped_tracking as       -- Centra's shipped shipments only
select order_number, number as shipment_number, tracking_number,
       trim(tracking_number)                         as tracking,
       upper(trim(tracking_number))                  as tracking_key,
       has_text(tracking_number)                     as has_tracking
from centra_shipments
where is_shipped;

create view despatch_tracking as             -- every OrderWise despatch, whatever its age
select order_id, tracking_number,
       trim(tracking_number)                         as tracking,
       upper(trim(tracking_number))                  as tracking_key,
       has_text(tracking_number)                     as has_tracking
from ow_despatches;

-- The live orders whose lines, shipments or tracking numbers may disagree (`differs`) or that have
-- a shipped shipment or a despatch without a tracking number (`has_tracking` false:
-- `tracking_missing`). The line, shipment and tracking checks then compare item by item, exactly,
-- only these orders (10M orders: each comparison used to group 44 to 48 million lines into 22
-- million groups). `differs`: each system's items of the order (ordered SKUs, shipped SKUs,
-- tracking numbers) folded into one checksum, each quantity times a 64-bit hash of the item's kind
-- and its SKU or number, and the two checksums differ.
-- Declared here, empty, and filled by tally itself (src/reconcile/order_checksums.rs says what is
-- summed, and asks has_text above about the numbers it cannot decide alone): as two DuckDB
-- aggregates of 57 million items into 10 million orders each and joins of both to the live orders,
-- this took 13 to 18 s of a 10M reconciliation; in Rust, about 3. The same in SQL, for another
-- engine: queries/portable/suspect_orders.sql.
create table suspect_orders as
select number, orderwise_order_id, true as differs, true as tracking_missing
from live_orders
where false;

-- The SKUs of live orders whose quantities differ: Centra's ordered quantity against OrderWise's
-- required (null where that side has no line for the SKU). Both sides' lines of the suspect orders
-- in one aggregate on the order's number and the SKU's id; only the differing SKUs are kept.
create table order_line_quantities as
with suspects as (select number, orderwise_order_id from suspect_orders where differs),
differing as (
    select number, sku_id, sum(centra_qty) as centra_qty, sum(orderwise_qty) as orderwise_qty
    from (
        select m.number, k.sku_id, l.quantity as centra_qty, null as orderwise_qty
        from suspects m
        join centra_order_lines l on l.order_number = m.number
        join sku_names k on k.sku_key = l.sku_key
        union all
        select m.number, k.sku_id, null, l.qty_required
        from suspects m
        join ow_order_lines l on l.order_id = m.orderwise_order_id
        left join sku_names k on k.sku_key = l.sku_key
    )
    group by number, sku_id
    having coalesce(sum(centra_qty), 0) <> coalesce(sum(orderwise_qty), 0)
)
select cast(d.number as varchar) as order_key, d.number, k.sku_key, d.centra_qty, d.orderwise_qty
from differing d
left join sku_names k on k.sku_id = d.sku_id;

-- Shipped units per live order and SKU where Centra's shipped shipments and OrderWise's
-- despatches disagree: Centra leads the despatches, or lags those older than the SLA (younger
-- ones are not expected in Centra yet). An order whose shipped and despatched quantities agree
-- SKU by SKU can do neither, so only the suspect orders are aggregated, on the order's number and
-- the SKU's id. The suspects' despatches are found first, on their own (`materialized`): left to
-- the optimizer, every one of the 22 million despatch lines was joined to its despatch before the
-- suspects' were kept (10M orders: 2.5 s against 1.4 s).
create table shipment_quantities as
with suspects as (select number, orderwise_order_id from suspect_orders where differs),
suspect_despatches as materialized (
    select m.number, d.despatch_id, d.despatched_at < p.sla_cutoff as before_sla
    from suspects m
    join ow_despatches d on d.order_id = m.orderwise_order_id
    cross join params p
),
differing as (
    select number, sku_id,
           coalesce(sum(shipped), 0) as centra_shipped,
           coalesce(sum(despatched), 0) as orderwise_despatched,
           coalesce(sum(despatched_before_sla), 0) as orderwise_despatched_before_sla
    from (
        select m.number, k.sku_id, sl.quantity as shipped, null as despatched,
               null as despatched_before_sla
        from suspects m
        join centra_shipped_lines sl on sl.order_number = m.number
        left join sku_names k on k.sku_key = sl.sku_key
        union all
        select d.number, k.sku_id, null, dl.qty, case when d.before_sla then dl.qty else 0 end
        from suspect_despatches d
        join ow_despatch_lines dl on dl.despatch_id = d.despatch_id
        left join sku_names k on k.sku_key = dl.sku_key
    )
    group by number, sku_id
    having coalesce(sum(shipped), 0) > coalesce(sum(despatched), 0)
        or coalesce(sum(shipped), 0) < coalesce(sum(despatched_before_sla), 0)
)
select cast(d.number as varchar) as order_key, d.number, k.sku_key,
       d.centra_shipped, d.orderwise_despatched, d.orderwise_despatched_before_sla
from differing d
left join sku_names k on k.sku_id = d.sku_id;

-- Live orders with despatches older than the SLA and no shipped Centra shipment: Centra never
-- heard of the despatch. (Once Centra has shipped, quantities are compared SKU by SKU instead:
-- shipment.quantity_mismatch.) Such an order lags on every SKU it despatched, so it is among the
-- orders of shipment_quantities with old despatches; Centra's shipped units are summed for those.
create table shipments_behind as
with lagging as (
    select number, sum(orderwise_despatched_before_sla) as despatched_before_sla
    from shipment_quantities
    where orderwise_despatched_before_sla > 0
    group by number
), shipped as (
    select order_number as number, sum(quantity) as centra_shipped
    from centra_shipped_lines
    where order_number in (select number from lagging)
    group by order_number
)
select cast(l.number as varchar) as order_key, coalesce(s.centra_shipped, 0) as centra_shipped,
       l.despatched_before_sla
from lagging l
left join shipped s on s.number = l.number
where coalesce(s.centra_shipped, 0) = 0;

-- The Centra market(s) each OrderWise web session carries: two markets sharing a session are one
-- market in the month-end figures ("Ireland + United Kingdom").
create view session_markets as
select orderwise_session, string_agg(centra_market, ' + ' order by centra_market) as market
from cfg_markets group by orderwise_session;

-- Month-end: each order's part in one system's totals per local month, market and currency.
-- Centra counts the orders OrderWise should have, in mapped markets; OrderWise counts its orders in
-- mapped sessions that are not Cancelled. A market is the market(s) of the order's session, so two
-- markets sharing a session are one line ("Ireland + United Kingdom"). order_ref is the Centra
-- number an order carries (OrderWise's external_ref), or OrderWise's own number where it has none.
-- A view per system: after/month_end.sql picks Centra's rows by number.
create view centra_period_sides as
select 'centra' as side, e.order_key as order_ref, null as orderwise_order_number,
       e.order_month as month, s.market, e.currency,
       e.net, e.vat_total as vat, e.gross_total as gross,
       e.discount_total as discounts, e.shipping_total as shipping,
       e.number    -- order_ref as the integer it is made from: a filter on it reaches the scan
from expected_orders e
join cfg_markets m on m.centra_market = e.market
join session_markets s on s.orderwise_session = m.orderwise_session;

create view orderwise_period_sides as
select 'orderwise' as side, coalesce(w.external_ref_key, w.order_number) as order_ref,
       w.order_number as orderwise_order_number,
       w.order_month as month, s.market, w.currency_code as currency,
       w.total_net as net, w.total_vat as vat, w.total_gross as gross,
       w.discount_gross as discounts, w.delivery_gross as shipping
from ow_orders w
join session_markets s on s.orderwise_session = w.session_id
where w.status <> 'Cancelled';

-- Both systems' totals per month, market and currency, side by side. A table: finance.period_mismatch
-- and summary.json both read it. Summed per side (the side a key of the aggregate), then the two
-- sides joined: one aggregate of both sides' rows with each sum filtered by side took 1.54 to
-- 2.03 s at 10M against 1.03 to 1.44 s.
create table period_totals as
with sums as (
    select side, month, market, currency, count(*) as orders, sum(net) as net, sum(vat) as vat,
           sum(gross) as gross, sum(discounts) as discounts, sum(shipping) as shipping
    from (
        select side, month, market, currency, net, vat, gross, discounts, shipping
        from centra_period_sides
        union all
        select side, month, market, currency, net, vat, gross, discounts, shipping
        from orderwise_period_sides
    )
    group by side, month, market, currency
)
select coalesce(c.month, o.month)         as month,
       coalesce(c.market, o.market)       as market,
       coalesce(c.currency, o.currency)   as currency,
       coalesce(c.orders, 0)    as c_orders,
       coalesce(c.net, 0)       as c_net,
       coalesce(c.vat, 0)       as c_vat,
       coalesce(c.gross, 0)     as c_gross,
       coalesce(c.discounts, 0) as c_discounts,
       coalesce(c.shipping, 0)  as c_shipping,
       coalesce(o.orders, 0)    as o_orders,
       coalesce(o.net, 0)       as o_net,
       coalesce(o.vat, 0)       as o_vat,
       coalesce(o.gross, 0)     as o_gross,
       coalesce(o.discounts, 0) as o_discounts,
       coalesce(o.shipping, 0)  as o_shipping
from (select * from sums where side = 'centra') c
full join (select * from sums where side = 'orderwise') o   -- a null groups with a null
       on o.month is not distinct from c.month
      and o.market is not distinct from c.market
      and o.currency is not distinct from c.currency;
