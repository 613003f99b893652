-- check: order.unmapped_market
-- entity: order
-- severity: high
-- owner: ecommerce
-- title: Order from a Centra market no OrderWise session is mapped to
-- remedy: Map the market in tally.toml [[markets]] and in the integration, then post its orders.
-- amount: the order's gross: it cannot be imported.
-- Only orders OrderWise should have are listed: a PENDING or brand-new order blocks nothing yet.
select
    e.order_key                                                   as order_number,
    e.market                                                      as market,
    e.created_at                                                  as occurred_at,
    e.market                         as centra_value,
    null                             as orderwise_value,
    null                             as difference,
    e.gross_total                    as amount,
    e.currency                       as currency,
    format('Centra order {} ({} {}) comes from market "{}", which is mapped to no OrderWise session, so it cannot be imported.',
           e.number, money_text(e.gross_total), e.currency, e.market) as detail
from expected_orders e
where e.market not in (select centra_market from cfg_markets)
