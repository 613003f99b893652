-- check: finance.period_cutoff
-- entity: order
-- severity: medium
-- owner: finance
-- title: Order falls in different months in Centra and OrderWise
-- remedy: Book the order in the month Centra placed it, or note it in the month-end reconciliation.
-- amount: the order's gross, counted in a different month by each side; not in the headline: the order's money agrees.
-- Months are cut in the configured time zone (computed in Rust: order_month on both sides).
select
    m.order_key                                                   as order_number,
    m.orderwise_order_id                                          as ow_order_id,
    m.orderwise_order_number                                      as ow_order_number,
    m.market                                                      as market,
    m.centra_month                                                as centra_value,
    m.orderwise_month                                             as orderwise_value,
    null                                                          as difference,
    m.centra_gross                                                as amount,
    m.centra_currency                                             as currency,
    format('Order {} was placed {} (local time) in Centra but is dated {} in OrderWise, so it counts in {} there instead of {}.',
           m.number, m.centra_date_local, m.orderwise_datetime_raw, m.orderwise_month, m.centra_month) as detail
from disagreeing_orders m
where m.live and m.centra_month <> m.orderwise_month
