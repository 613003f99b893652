-- check: order.missing_in_orderwise
-- entity: order
-- severity: high
-- owner: operations
-- title: Order captured in Centra never reached OrderWise
-- remedy: Post the order to OrderWise with Centra's values (tally plan does this); fix any cause reported beside it first.
-- amount: the order's gross: none of it reached OrderWise.
select
    e.order_key                                                   as order_number,
    e.market                                                      as market,
    e.created_at                                                  as occurred_at,
    e.status                         as centra_value,
    null                             as orderwise_value,
    null                             as difference,
    e.gross_total                    as amount,
    e.currency                       as currency,
    format('Centra order {} ({}, {} {}, placed {} in {}) has no OrderWise order with that external reference.',
           e.number, e.status, money_text(e.gross_total), e.currency,
           strftime(e.created_at, '%Y-%m-%d %H:%M UTC'), e.market) as detail
from expected_orders e
-- order_matches has no OrderWise id for a Centra order OrderWise has in no form (no copy under
-- its reference, in any status).
where e.number in (select number from order_matches where orderwise_order_id is null)
