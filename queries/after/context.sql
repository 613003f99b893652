-- After the checks: for each exception, when its subject happened and which market it concerns,
-- found from its key by entity. The reports use them: the exception queue works oldest first, the
-- charts show money at stake by market and exceptions over the data window. Stock, product and
-- carrier exceptions have no date (they are as of the snapshot); products and carriers no market.
create table exceptions_in_context as
with session_markets as (
    select orderwise_session, string_agg(centra_market, ' + ' order by centra_market) as market
    from cfg_markets group by orderwise_session
), warehouse_markets as (
    select centra_warehouse, string_agg(centra_market, ' + ' order by centra_market) as market
    from cfg_markets group by centra_warehouse
), location_markets as (
    select l.orderwise_location, string_agg(distinct m.centra_market, ' + ' order by m.centra_market) as market
    from cfg_warehouses l join cfg_markets m on m.centra_warehouse = l.centra_warehouse
    group by l.orderwise_location
), centra as (
    select cast(number as varchar) as ref, any_value(market) as market, min(created_at) as placed_at
    from centra_orders group by all
), orderwise as (
    select w.order_number as ref, any_value(s.market) as market, min(w.order_datetime) as placed_at
    from ow_orders w left join session_markets s on s.orderwise_session = w.session_id
    group by all
), despatched as (
    select coalesce(external_ref_key, order_number) as ref, max(despatched_at) as despatched_at
    from ow_despatches group by all
), keyed as (
    select x.*,
           case when x.entity in ('order', 'order_line', 'shipment', 'shipment_line')
                then split_part(x.key, ':', 1) end                       as order_ref,
           case when x.entity = 'stock' then regexp_extract(x.key, '@([^@]*)$', 1) end as place
    from exceptions x
)
select
    k.* exclude (order_ref, place),
    case k.entity
        when 'period' then substr(k.key, 9, length(k.key) - 12)
        when 'market' then k.key
        when 'stock' then coalesce(wm.market, lm.market)
        else coalesce(c.market, o.market)
    end as market,
    cast(case
        when k.entity = 'period' then strptime(substr(k.key, 1, 7) || '-01', '%Y-%m-%d')
        when k.entity in ('shipment', 'shipment_line') then coalesce(d.despatched_at, c.placed_at, o.placed_at)
        else coalesce(c.placed_at, o.placed_at)
    end as timestamp) as occurred_at
from keyed k
left join centra c on c.ref = k.order_ref
left join orderwise o on o.ref = k.order_ref and c.ref is null
left join despatched d on d.ref = k.order_ref
left join warehouse_markets wm on wm.centra_warehouse = k.place
left join location_markets lm on lm.orderwise_location = k.place;

drop table exceptions;
alter table exceptions_in_context rename to exceptions;
