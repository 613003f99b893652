-- After the checks: each exception's part of the headline money at stake (`at_stake`), so that
-- the headline counts each subject once. Each check's own `amount` says what it means (its
-- `-- amount:` line); adding those up would count one missing order under
-- order.missing_in_orderwise, again under order.unknown_sku and again in its month's
-- finance.period_mismatch. The headline counts:
-- - each order once, by the largest amount any order or shipment check puts on it: its gross when
--   it is missing, duplicated, cancelled but open, unmapped or in another currency; otherwise its
--   largest money difference. An OrderWise order with no Centra order counts once, by its own id.
--   The exception carrying that amount has it as `at_stake`; the order's others have none. Where
--   two carry the same largest amount, the first by check and then key does, so the same
--   exception carries it on every run (two unknown SKUs of one order at the same price);
-- - each stock position (SKU at a warehouse or location) by its units at the SKU's price;
-- - nothing for market, product and month (finance) exceptions: their money is already in their
--   orders, or has no price. Month totals stay in the month-end report.
-- The headline per currency is then sum(at_stake).
create table exceptions_counted as
with marked as (
    select x.*,
           x.amount is not null
               and x.entity in ('order', 'order_line', 'shipment', 'shipment_line')
               and x."check" not like 'finance.%'                        as order_money,
           coalesce(x.order_number, 'orderwise:' || cast(x.ow_order_id as varchar)) as order_subject
    from exceptions x
)
select m.* exclude (order_money, order_subject),
       cast(case
           when m.entity = 'stock' then m.amount
           when m.order_money
                and row_number() over (partition by m.order_money, m.order_subject
                                       order by m.amount desc, m."check", m.key) = 1 then m.amount
       end as decimal(18, 4)) as at_stake
from marked m;

drop table exceptions;
alter table exceptions_counted rename to exceptions;
