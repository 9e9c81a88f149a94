using Replicator.Binlog.Positions;
using Replicator.Engine.Schema;

namespace Replicator.Engine.Tests.Schema;

public sealed class DdlHistoryTests
{
    private const string File = "mariadb-bin.000003";

    private static BinlogPosition P(long position, string file = File) => new(file, position);

    private static DdlHistory Scanned(long from, long to, params (long At, string Sql)[] statements)
    {
        var history = new DdlHistory();
        history.Scanned(P(from), P(to), statements.SelectMany(s => DdlHistory.Of(s.Sql, "shop", P(s.At), P(s.At + 50))));
        return history;
    }

    [Fact]
    public void Names_read_after_a_ddl_on_the_table_may_not_label_rows_written_before_it()
    {
        var history = Scanned(100, 1000, (500, "ALTER TABLE orders RENAME COLUMN a TO tmp"), (600, "ALTER TABLE `shop`.`orders` RENAME COLUMN b TO a"));

        var verdict = history.Check("shop", "orders", P(200), namesAsOf: P(900));

        Assert.False(verdict.MayDecode);
        Assert.Equal(P(500), verdict.Between!.At);
        Assert.Equal(P(650), verdict.Last!.End);
    }

    [Fact]
    public void Names_read_before_a_ddl_or_with_only_other_tables_changed_between_label_the_rows()
    {
        var history = Scanned(100, 1000, (500, "ALTER TABLE customers DROP COLUMN x"), (700, "ALTER TABLE orders ADD COLUMN c INT"));

        Assert.True(history.Check("shop", "orders", P(200), namesAsOf: P(600)).MayDecode);
        Assert.True(history.Check("shop", "orders", P(750), namesAsOf: P(900)).MayDecode);
        Assert.True(history.Check("other", "orders", P(200), namesAsOf: P(900)).MayDecode);
        Assert.False(history.Check("shop", "orders", P(200), namesAsOf: P(900)).MayDecode);
    }

    [Fact]
    public void Names_read_as_of_a_position_at_or_before_the_rows_label_them_without_a_scan()
    {
        var history = new DdlHistory();

        Assert.True(history.Check("shop", "orders", P(500), namesAsOf: P(500)).MayDecode);
        Assert.True(history.Check("shop", "orders", P(10, "mariadb-bin.000004"), namesAsOf: P(900)).MayDecode);
        Assert.Empty(history.Missing(P(500), P(400)));
    }

    [Fact]
    public void A_stretch_never_scanned_is_not_taken_as_free_of_ddl()
    {
        var history = Scanned(300, 1000);

        var verdict = history.Check("shop", "orders", P(200), namesAsOf: P(900));

        Assert.False(verdict.MayDecode);
        Assert.Null(verdict.Between);
        Assert.False(history.Check("shop", "orders", P(400), namesAsOf: P(1200)).MayDecode);
        Assert.True(history.Check("shop", "orders", P(400), namesAsOf: P(900)).MayDecode);
    }

    [Fact]
    public void Only_the_stretches_outside_what_was_scanned_are_missing_and_scanning_them_joins_them()
    {
        var history = Scanned(300, 1000);

        Assert.Empty(history.Missing(P(400), P(900)));
        Assert.Equal([(P(200), P(300)), (P(1000), P(1200))], history.Missing(P(200), P(1200)));
        Assert.Equal([(P(4, "mariadb-bin.000004"), P(90, "mariadb-bin.000004"))], history.Missing(P(4, "mariadb-bin.000004"), P(90, "mariadb-bin.000004")));

        history.Scanned(P(1000), P(50, "mariadb-bin.000004"), DdlHistory.Of("TRUNCATE orders", "shop", P(20, "mariadb-bin.000004"), P(60, "mariadb-bin.000004")));

        Assert.Empty(history.Missing(P(300), P(50, "mariadb-bin.000004")));
        Assert.Equal(P(20, "mariadb-bin.000004"), history.Check("shop", "orders", P(500), P(40, "mariadb-bin.000004")).Between!.At);
    }

    [Theory]
    [InlineData("ALTER TABLE orders CHANGE a b INT", "shop.orders")]
    [InlineData("/* app */ ALTER TABLE `crm`.`Orders` RENAME COLUMN a TO b", "crm.Orders")]
    [InlineData("RENAME TABLE orders TO tmp, customers TO orders, tmp TO customers", "shop.orders, shop.tmp, shop.customers")]
    [InlineData("DROP DATABASE crm", "crm.*")]
    [InlineData("CREATE INDEX ix ON orders (v)", "shop.orders")]
    [InlineData("DROP INDEX `PRIMARY` ON crm.t", "crm.t")]
    [InlineData("CREATE DATABASE crm", "")]
    [InlineData("CREATE USER 'app'@'%' IDENTIFIED BY 'x'", "")]
    [InlineData("CREATE DEFINER=`root`@`localhost` TRIGGER tr BEFORE INSERT ON orders FOR EACH ROW SET NEW.v = 1", "")]
    [InlineData("CREATE SEQUENCE s", "*")]
    [InlineData("INSERT INTO orders VALUES (1)", "")]
    [InlineData("BEGIN", "")]
    public void A_ddl_changes_the_tables_the_capture_reads_it_as_changing(string sql, string tables)
    {
        var ddls = DdlHistory.Of(sql, "shop", P(100), P(150));

        Assert.Equal(tables, string.Join(", ", ddls.Select(d => d.Schema is null ? "*" : $"{d.Schema}.{d.Table ?? "*"}").Distinct()));
    }

    [Fact]
    public void A_ddl_whose_tables_cannot_be_told_changes_every_table()
    {
        var history = Scanned(100, 1000, (500, "CREATE SEQUENCE s"));

        Assert.False(history.Check("crm", "customers", P(200), P(900)).MayDecode);
    }

    [Theory]
    [InlineData("use `shop`; ALTER TABLE t RENAME COLUMN a TO b", "shop", "ALTER TABLE t RENAME COLUMN a TO b")]
    [InlineData("use `we``ird`; DROP TABLE t", "we`ird", "DROP TABLE t")]
    [InlineData("CREATE DATABASE crm", "", "CREATE DATABASE crm")]
    public void Show_binlog_events_info_splits_into_the_default_schema_and_the_statement(string info, string schema, string sql)
    {
        Assert.Equal((schema, sql), MySqlSchemaSource.SplitUse(info));
    }

    [Theory]
    [InlineData("FULL", true, "come from each TABLE_MAP event")]
    [InlineData("MINIMAL", false, "stops until it is resynced")]
    [InlineData(null, false, "not supported by this server")]
    public void The_metadata_mode_says_where_names_come_from_and_what_it_costs(string? mode, bool full, string says)
    {
        var described = Replicator.Engine.Capture.SourcePreflight.DescribeRowMetadata(mode);

        Assert.Equal(full, described.Full);
        Assert.Contains(says, described.Description);
    }
}
