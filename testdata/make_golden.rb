#!/usr/bin/env ruby
# Writes testdata/golden/rb_records.msgpack with Ruby's msgpack gem (Debian's ruby-msgpack),
# an encoder independent of mpq and of msgpack-python. Run: ruby testdata/make_golden.rb
require "msgpack"

factory = MessagePack::Factory.new
factory.register_type(-1, MessagePack::Timestamp, packer: MessagePack::Time::Packer, unpacker: MessagePack::Time::Unpacker)
factory.register_type(-1, Time, packer: MessagePack::Time::Packer, unpacker: MessagePack::Time::Unpacker)
out = File.join(__dir__, "golden", "rb_records.msgpack")
File.open(out, "wb") do |f|
  pk = factory.packer(f)
  8.times do |i|
    rec = {
      "host" => "web#{i % 3}",
      "n" => i * 1000,
      "ratio" => i / 4.0,
      "ok" => i.even?,
      "at" => Time.at(1_700_000_000 + i, 250_000 * i, :usec).utc,
      "tags" => (0...i % 3).map { |j| "t#{j}" },
      "req" => { "path" => "/p/#{i}", "bytes" => i * 7, "hdr" => (i.odd? ? { "ua" => "curl" } : nil) },
      "blob" => "\x00\x01#{i}".b,
    }
    rec["maybe"] = i if i > 4
    pk.write(rec)
  end
  pk.flush
end
