namespace Replicator.Binlog.Protocol;

/// <summary>
/// The first byte of a command packet.
/// https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_command_phase.html
/// </summary>
internal enum CommandCode : byte
{
    Quit = 0x01,
    Query = 0x03,
    Ping = 0x0E,
    BinlogDump = 0x12,
    RegisterSlave = 0x15,
    BinlogDumpGtid = 0x1E,
}
