-- check: stock.negative_in_orderwise
-- entity: stock
-- severity: low
-- owner: operations
-- title: Negative or fractional free stock in OrderWise
-- remedy: Count the location and correct the stock record in OrderWise; tally counts it as 0 (or rounds down) meanwhile.
-- amount: none: a count to correct, not a sale.
select
    s.sku                                                         as sku,
    s.location_name                                               as location,
    null                                                          as centra_value,
    money_text(s.free)                                            as orderwise_value,
    null                                                          as difference,
    null                                                          as amount,
    null                                                          as currency,
    format('OrderWise shows {} free of {} at {}: {}.', money_text(s.free), s.sku, s.location_name,
           case when s.free < 0 then 'negative stock, counted as 0' else 'a fraction of a unit, rounded down' end) as detail
from ow_stock s
where s.free < 0 or s.free <> floor(s.free)
