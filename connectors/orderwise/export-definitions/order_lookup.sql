-- tally export: order_lookup (id column order_id). Parameters: @external_ref, @after_id.
-- The orders columns for the orders carrying one Centra order number (0, 1, or more when duplicated).
SELECT TOP 1000
    oh.oh_id                        AS order_id,
    oh.oh_order_number              AS order_number,
    oh.oh_cust_order_ref            AS external_ref,
    oh.oh_os_id                     AS session_id,
    cu.cu_account_code              AS customer_account,
    CONVERT(varchar(19), oh.oh_datetime, 126)      AS order_datetime,
    os.os_description               AS status,
    cur.cur_code                    AS currency_code,
    CAST(oh.oh_net_total AS decimal(18,4))          AS total_net,
    CAST(oh.oh_vat_total AS decimal(18,4))          AS total_vat,
    CAST(oh.oh_gross_total AS decimal(18,4))        AS total_gross,
    CAST(oh.oh_delivery_net AS decimal(18,4))       AS delivery_net,
    CAST(oh.oh_delivery_vat AS decimal(18,4))       AS delivery_vat,
    CAST(oh.oh_delivery_gross AS decimal(18,4))     AS delivery_gross,
    CAST(oh.oh_discount_gross AS decimal(18,4))     AS discount_gross,
    dm.dm_description               AS delivery_method,
    CONVERT(varchar(19), oh.oh_amended_datetime, 126) AS amended_at
FROM order_header oh
JOIN order_status os ON os.os_id = oh.oh_status_id
JOIN currency cur ON cur.cur_id = oh.oh_cur_id
JOIN customer cu ON cu.cu_id = oh.oh_cu_id
LEFT JOIN delivery_method dm ON dm.dm_id = oh.oh_dm_id
WHERE oh.oh_id > @after_id
  AND LTRIM(RTRIM(oh.oh_cust_order_ref)) = LTRIM(RTRIM(@external_ref))
ORDER BY oh.oh_id
