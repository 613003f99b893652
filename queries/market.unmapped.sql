-- check: market.unmapped
-- entity: market
-- severity: high
-- owner: ecommerce
-- title: Centra market with orders but no OrderWise mapping
-- remedy: Add the market to tally.toml [[markets]] with its OrderWise session, customer and warehouse.
-- amount: the gross of the market's orders (one currency only); not in the headline, each order counts itself.
with unmapped as (
    select market,
           count(*)                               as orders,
           sum(gross_total)                       as gross,
           count(distinct currency)               as currencies,
           min(currency)                          as currency,
           min(created_at)                        as first_order
    from centra_order_figures
    where market not in (select centra_market from cfg_markets)
    group by market
)
select
    u.market                                                      as market,
    u.first_order                                                 as occurred_at,
    cast(u.orders as varchar) || ' orders'                as centra_value,
    null                                                  as orderwise_value,
    null                                                  as difference,
    case when u.currencies = 1 then u.gross end           as amount,
    case when u.currencies = 1 then u.currency end        as currency,
    format('Centra market "{}" has {} orders since {} but no [[markets]] mapping to an OrderWise session.',
           u.market, u.orders, strftime(u.first_order, '%Y-%m-%d')) as detail
from unmapped u
