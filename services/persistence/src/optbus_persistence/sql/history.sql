-- Real history imported by `optbus import`, beside what the bus recorded.
--
-- fo_bhavcopy: NSE's F&O bhavcopy (UDiFF), one row per contract per trading day, keyed by the
-- exchange's own contract id (FinInstrmId) so that importing a file again stores nothing new.
-- Read by IV rank over 252 trading days and the end-of-day term structure. Quantities are as
-- NSE reports them (traded_volume is TtlTradgVol); prices in rupees; strike and option_type are
-- null for futures; a price NSE leaves empty (no trade that day) is null.
CREATE TABLE IF NOT EXISTS fo_bhavcopy (
    trade_date              date             NOT NULL,
    instrument_id           bigint           NOT NULL,
    instrument_type         text             NOT NULL,
    underlying              text             NOT NULL,
    expiry                  date             NOT NULL,
    strike                  double precision,
    option_type             text,
    open                    double precision,
    high                    double precision,
    low                     double precision,
    close                   double precision,
    last                    double precision,
    previous_close          double precision,
    underlying_price        double precision,
    settlement_price        double precision NOT NULL,
    open_interest           bigint           NOT NULL,
    change_in_open_interest bigint           NOT NULL,
    traded_volume           bigint           NOT NULL,
    turnover                double precision NOT NULL,
    trades                  bigint           NOT NULL,
    lot_size                integer          NOT NULL,
    source_file             text             NOT NULL,
    PRIMARY KEY (trade_date, instrument_id)
);
CREATE INDEX IF NOT EXISTS fo_bhavcopy_contracts
    ON fo_bhavcopy (underlying, expiry, trade_date);

-- breeze_bars: ICICI Breeze's historical bars (`optbus import breeze`), one row per contract
-- (breeze_contract_days' name, e.g. NIFTY:options:2026-12-08:24000:call) and bar opening time.
-- breeze_contract_days: each contract-day fetched, stored in the transaction of its bars (so a
-- day Breeze had no bar for is known fetched too): an import run again skips it.
CREATE TABLE IF NOT EXISTS breeze_bars (
    contract      text             NOT NULL,
    time          timestamptz      NOT NULL,
    open          double precision NOT NULL,
    high          double precision NOT NULL,
    low           double precision NOT NULL,
    close         double precision NOT NULL,
    volume        bigint           NOT NULL,
    open_interest bigint           NOT NULL,
    PRIMARY KEY (contract, time)
);
CREATE TABLE IF NOT EXISTS breeze_contract_days (
    contract text    NOT NULL,
    day      date    NOT NULL,
    bars     integer NOT NULL,
    skipped  integer NOT NULL,
    PRIMARY KEY (contract, day)
);
