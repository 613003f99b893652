-- check: order.tax_mismatch
-- entity: order
-- severity: high
-- owner: finance
-- title: VAT differs between Centra and OrderWise
-- remedy: Check the VAT codes mapped in [vat_codes] and correct the OrderWise order's VAT.
-- amount: the absolute difference of the VAT totals.
-- A difference within rules.money_tolerance is rounding, not drift.
select
    m.order_key                                                   as order_number,
    m.orderwise_order_id                                          as ow_order_id,
    m.orderwise_order_number                                      as ow_order_number,
    m.market                                                      as market,
    money_text(m.centra_vat)                          as centra_value,
    money_text(m.orderwise_vat)                       as orderwise_value,
    money_text(m.orderwise_vat - m.centra_vat)     as difference,
    abs(m.orderwise_vat - m.centra_vat)            as amount,
    m.centra_currency                                    as currency,
    format('Order {}: the VAT total is {} {} in Centra but {} in OrderWise order {}.',
           m.number, money_text(m.centra_vat), m.centra_currency,
           money_text(m.orderwise_vat), m.orderwise_order_number) as detail
from money_differences m, params p
where abs(m.orderwise_vat - m.centra_vat) > p.money_tolerance
