-- Shared views every check builds on. tally creates, before this file runs:
--   centra_orders, centra_order_lines, centra_shipments, centra_shipment_lines, centra_stock,
--   centra_products, centra_markets, centra_warehouses, ow_orders, ow_order_lines, ow_stock,
--   ow_despatches, ow_despatch_lines, ow_variants      (one view per Parquet file of the snapshot)
--   params(extracted_at, settle_cutoff, sla_cutoff, money_tolerance)
--   cfg_markets(centra_market, orderwise_session, orderwise_customer, centra_warehouse)
--   cfg_warehouses(centra_warehouse, orderwise_location)
--   cfg_carriers(orderwise_delivery_method, centra_carrier, centra_service)
--   cfg_vat_codes(tax_percent, vat_code)
-- Files whose name starts with "_" are shared definitions, not checks.

-- Money as people write it: at least two decimals, no trailing zeros beyond them (19.99, 33.3167).
create macro money_text(x) as
    regexp_replace(cast(cast(x as decimal(18, 4)) as varchar), '(\.\d\d[1-9]*)0+$', '\1');

-- Centra orders with the figures reconcile compares, named for what they are.
create view centra_order_figures as
select
    o.*,
    cast(o.number as varchar)        as order_key,   -- meets OrderWise's external_ref
    o.gross                          as gross_total,
    o.tax_included + o.tax_added     as vat_total,
    -o.discounts                     as discount_total,
    o.shipping                       as shipping_total
from centra_orders o;

-- The orders OrderWise should have: placed and paid (not PENDING, not CANCELLED) and older than
-- the settle window, measured from the snapshot's extraction time.
create view expected_orders as
select o.*
from centra_order_figures o, params p
where o.status in ('CONFIRMED', 'PROCESSING', 'SHIPPED')
  and o.created_at < p.settle_cutoff;

-- OrderWise sessions that carry Centra's web orders.
create view web_sessions as
select distinct orderwise_session as session_id from cfg_markets;

-- Each Centra order with the one OrderWise order its values are compared against: the first live
-- (not cancelled) copy, so a duplicate is reported once, as a duplicate, not as value drift.
create view matched_orders as
with ranked as (
    select w.*,
           row_number() over (partition by w.external_ref_key
                              order by (w.status = 'Cancelled'), w.order_id) as copy_rank
    from ow_orders w
    where w.external_ref_key is not null
)
select
    c.order_key,
    c.number,
    c.status                 as centra_status,
    c.market,
    c.currency               as centra_currency,
    c.gross_total            as centra_gross,
    c.vat_total              as centra_vat,
    c.discount_total         as centra_discount,
    c.shipping_total         as centra_shipping,
    w.order_number           as orderwise_order_number,
    w.status                 as orderwise_status,
    w.currency_code          as orderwise_currency,
    w.total_gross            as orderwise_gross,
    w.total_vat              as orderwise_vat,
    w.discount_gross         as orderwise_discount,
    w.delivery_gross         as orderwise_shipping
from centra_order_figures c
join ranked w on w.external_ref_key = c.order_key and w.copy_rank = 1;

-- Matched orders whose values should agree: live on both sides, in the same currency.
create view comparable_orders as
select m.*
from matched_orders m
where m.centra_status in ('CONFIRMED', 'PROCESSING', 'SHIPPED')
  and m.orderwise_status <> 'Cancelled'
  and m.centra_currency = m.orderwise_currency;
