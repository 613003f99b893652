-- tally export: despatches (id column despatch_id). Parameters: @since, @after_id.
SELECT TOP 1000
    dh.dh_id                        AS despatch_id,
    oh.oh_id                        AS order_id,
    oh.oh_order_number              AS order_number,
    oh.oh_cust_order_ref            AS external_ref,
    CONVERT(varchar(19), dh.dh_despatched_datetime, 126) AS despatched_at,
    dh.dh_consignment_number        AS tracking_number,
    dm.dm_description               AS delivery_method,
    cou.cou_name                    AS courier,
    CONVERT(varchar(19), dh.dh_amended_datetime, 126) AS amended_at
FROM delivery_header dh
JOIN order_header oh ON oh.oh_id = dh.dh_oh_id
LEFT JOIN delivery_method dm ON dm.dm_id = dh.dh_dm_id
LEFT JOIN courier cou ON cou.cou_id = dm.dm_cou_id
WHERE dh.dh_id > @after_id
  AND dh.dh_despatched_datetime IS NOT NULL
  AND (@since = '' OR dh.dh_amended_datetime >= CONVERT(datetime, @since, 126))
ORDER BY dh.dh_id
