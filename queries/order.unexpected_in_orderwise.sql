-- check: order.unexpected_in_orderwise
-- entity: order
-- severity: medium
-- owner: operations
-- title: OrderWise web order with no Centra order behind it
-- remedy: Find where the order came from (a test, a manual entry, a mistyped reference) and cancel or correct it in OrderWise.
-- amount: the OrderWise order's gross: booked with no sale behind it.
-- Only sessions mapped to Centra markets carry web orders; telephone or wholesale sessions are not ours.
select
    w.order_id                                                    as ow_order_id,
    w.order_number                                                as ow_order_number,
    w.order_datetime                                              as occurred_at,
    null                             as centra_value,
    coalesce(w.external_ref, '(none)') as orderwise_value,
    null                             as difference,
    w.total_gross                    as amount,
    w.currency_code                  as currency,
    format('OrderWise order {} in web session {} ({} {}, {}) carries external reference {} but Centra has no such order.',
           w.order_number, w.session_id, money_text(w.total_gross), w.currency_code, w.status,
           coalesce('"' || w.external_ref || '"', 'nothing')) as detail
from ow_orders w
-- order_matches holds, without a number, each reference no Centra order carries: a join on those
-- few rather than a test of every order against the ten million Centra ones
left join (select order_key from order_matches where number is null) u
       on u.order_key = w.external_ref_key
where w.session_id in (select session_id from web_sessions)
  and w.status <> 'Cancelled'
  and (w.external_ref_key is null or u.order_key is not null)
