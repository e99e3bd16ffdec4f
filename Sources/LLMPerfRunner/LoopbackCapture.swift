import Foundation
import LLMPerfCore
import Synchronization

#if os(Linux)
    import Glibc

    /// Captures the TCP segments to and from one port on the loopback interface, each with the kernel's timestamp,
    /// for `llmperf calibrate`'s bias against the wire: what the client measured set against when its bytes really
    /// went out and came in, free of the server's own queues.
    ///
    /// A packet socket (`AF_PACKET`, which needs root or CAP_NET_RAW) bound to `lo`, with a classic BPF filter that
    /// passes only TCP to or from the port (the first 128 bytes: the headers), and a `TPACKET_V3` ring the kernel
    /// fills in blocks: no system call per packet, so the capture takes as little as can be from the two cores the
    /// client and the server share. A thread hands each filled block back after reading its segments. The kernel
    /// stamps packets with CLOCK_REALTIME; they are turned into CLOCK_MONOTONIC (the traces' clock) with the two
    /// clocks' offset read at the start and at the end, interpolated.
    ///
    /// Linux only. The structures of `<linux/if_packet.h>` are not in Swift's Glibc module, so their fields are read
    /// at their offsets in the kernel's ABI (named below).
    public final class LoopbackCapture: @unchecked Sendable {
        // <linux/if_packet.h> and <linux/filter.h>.
        private static let solPacket: Int32 = 263
        private static let packetRXRing: Int32 = 5
        private static let packetStatistics: Int32 = 6
        private static let packetVersion: Int32 = 10
        private static let tpacketV3: Int32 = 2
        private static let statusUser: UInt32 = 1
        private static let statusKernel: UInt32 = 0
        private static let soAttachFilter: Int32 = 26
        private static let ethernetIPv4: UInt16 = 0x0800

        private static let blockSize = 1 << 20
        private static let blockCount = 32
        /// How long the kernel leaves a block that is not full before handing it over, ms.
        private static let blockTimeout: UInt32 = 8

        private let fd: Int32
        private let ring: UnsafeMutableRawPointer
        private let port: UInt16
        private let stopping = Atomic<Bool>(false)
        private let finished = DispatchSemaphore(value: 0)
        /// Written by the reader thread only, read after `finished`.
        private var segments: [WireSegment] = []
        private var offsets: (start: (real: UInt64, monotonic: UInt64), end: (real: UInt64, monotonic: UInt64))
        private var stopped = false

        /// Starts capturing the segments to and from `port` on `lo`; throws `Unavailable` with the reason when a packet
        /// socket cannot be had (not root and no CAP_NET_RAW, no `lo`, a kernel without TPACKET_V3).
        public init(port: UInt16) throws {
            self.port = port
            let fd = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue), Int32(Self.ethernetIPv4.bigEndian))
            guard fd >= 0 else {
                let reason = String(cString: strerror(errno))
                throw Unavailable(
                    description: errno == EPERM
                        ? "a packet socket needs root or CAP_NET_RAW (\(reason))" : "no packet socket: \(reason)")
            }
            func fail(_ what: String) -> Unavailable {
                let error = Unavailable(description: "\(what): \(String(cString: strerror(errno)))")
                close(fd)
                return error
            }
            // Only TCP to or from the port, whole datagrams (no fragments), their first 128 bytes.
            var program: [SocketFilter] = [
                SocketFilter(code: 0x30, jt: 0, jf: 0, k: 9),  // ldb [9]: the IP protocol
                SocketFilter(code: 0x15, jt: 0, jf: 8, k: 6),  // jeq #6 (TCP), else drop
                SocketFilter(code: 0x28, jt: 0, jf: 0, k: 6),  // ldh [6]: flags and fragment offset
                SocketFilter(code: 0x45, jt: 6, jf: 0, k: 0x1fff),  // jset: a fragment: drop
                SocketFilter(code: 0xb1, jt: 0, jf: 0, k: 0),  // ldxb 4*([0]&0xf): the IP header's length
                SocketFilter(code: 0x48, jt: 0, jf: 0, k: 0),  // ldh [x+0]: the source port
                SocketFilter(code: 0x15, jt: 2, jf: 0, k: UInt32(port)),  // jeq #port: accept
                SocketFilter(code: 0x48, jt: 0, jf: 0, k: 2),  // ldh [x+2]: the destination port
                SocketFilter(code: 0x15, jt: 0, jf: 1, k: UInt32(port)),  // jeq #port: accept, else drop
                SocketFilter(code: 0x06, jt: 0, jf: 0, k: 128),  // accept: ret #128
                SocketFilter(code: 0x06, jt: 0, jf: 0, k: 0),  // drop: ret #0
            ]
            let attached = program.withUnsafeMutableBufferPointer { filters in
                var fprog = SocketFilterProgram(length: UInt16(filters.count), filter: filters.baseAddress!)
                return setsockopt(
                    fd, SOL_SOCKET, Self.soAttachFilter, &fprog, socklen_t(MemoryLayout.size(ofValue: fprog)))
            }
            guard attached == 0 else { throw fail("cannot attach the packet filter") }
            var version = Self.tpacketV3
            guard setsockopt(fd, Self.solPacket, Self.packetVersion, &version, socklen_t(MemoryLayout<Int32>.size)) == 0
            else { throw fail("no TPACKET_V3 ring") }
            // struct tpacket_req3: block size, block count, frame size, frame count, block timeout (ms), private size,
            // feature word.
            var request: [UInt32] = [
                UInt32(Self.blockSize), UInt32(Self.blockCount), 2048, UInt32(Self.blockSize / 2048 * Self.blockCount),
                Self.blockTimeout, 0, 0,
            ]
            guard setsockopt(fd, Self.solPacket, Self.packetRXRing, &request, socklen_t(request.count * 4)) == 0 else {
                throw fail("cannot set up the capture ring")
            }
            let mapped = mmap(nil, Self.blockSize * Self.blockCount, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
            guard let mapped, mapped != MAP_FAILED else { throw fail("cannot map the capture ring") }
            // struct sockaddr_ll: family, protocol (network order), interface index, then fields bind ignores.
            let index = if_nametoindex("lo")
            guard index != 0 else {
                munmap(mapped, Self.blockSize * Self.blockCount)
                throw fail("no loopback interface 'lo'")
            }
            var address = [UInt8](repeating: 0, count: 20)
            address.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: UInt16(AF_PACKET), toByteOffset: 0, as: UInt16.self)
                raw.storeBytes(of: Self.ethernetIPv4.bigEndian, toByteOffset: 2, as: UInt16.self)
                raw.storeBytes(of: Int32(index), toByteOffset: 4, as: Int32.self)
            }
            let bound = address.withUnsafeBytes {
                bind(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(address.count))
            }
            guard bound == 0 else {
                munmap(mapped, Self.blockSize * Self.blockCount)
                throw fail("cannot bind the packet socket to 'lo'")
            }
            self.fd = fd
            ring = mapped
            let now = Self.clocks()
            offsets = (now, now)
            let thread = Thread { [self] in read() }
            thread.name = "llmperf-capture"
            thread.start()
        }

        /// Stops the capture once the kernel has handed over its last block; the segments with monotonic times.
        public func stop() -> Result {
            precondition(!stopped, "LoopbackCapture.stop called twice")
            stopped = true
            offsets.end = Self.clocks()
            stopping.store(true, ordering: .releasing)
            finished.wait()
            // struct tpacket_stats_v3: packets, drops, frozen queue count (reading resets them).
            var statistics: [UInt32] = [0, 0, 0]
            var length = socklen_t(statistics.count * 4)
            let read = getsockopt(fd, Self.solPacket, Self.packetStatistics, &statistics, &length)
            munmap(ring, Self.blockSize * Self.blockCount)
            close(fd)
            let (start, end) = offsets
            let startOffset = Double(start.real) - Double(start.monotonic)
            let endOffset = Double(end.real) - Double(end.monotonic)
            let span = Double(end.real) - Double(start.real)
            let converted = segments.map { segment -> WireSegment in
                var segment = segment
                let fraction = span > 0 ? (Double(segment.nanos) - Double(start.real)) / span : 0
                let offset = startOffset + (endOffset - startOffset) * min(1, max(0, fraction))
                segment.nanos = UInt64(max(0, (Double(segment.nanos) - offset).rounded()))
                return segment
            }
            return Result(
                segments: converted, packets: read == 0 ? Int(statistics[0]) : 0,
                dropped: read == 0 ? Int(statistics[1]) : 0)
        }

        /// CLOCK_REALTIME and CLOCK_MONOTONIC read back to back.
        private static func clocks() -> (real: UInt64, monotonic: UInt64) {
            var real = timespec()
            var monotonic = timespec()
            clock_gettime(CLOCK_REALTIME, &real)
            clock_gettime(CLOCK_MONOTONIC, &monotonic)
            return (
                UInt64(real.tv_sec) * 1_000_000_000 + UInt64(real.tv_nsec),
                UInt64(monotonic.tv_sec) * 1_000_000_000 + UInt64(monotonic.tv_nsec)
            )
        }

        /// The reader thread: takes each block the kernel hands over, in ring order, until stopped and drained (the
        /// kernel hands over a block that is not full once `blockTimeout` passes).
        private func read() {
            var block = 0
            var drainUntil: UInt64?
            while true {
                let descriptor = ring + block * Self.blockSize
                // struct tpacket_block_desc: version, private offset, then tpacket_hdr_v1: status, packet count,
                // first packet's offset, ...
                let status = descriptor.load(fromByteOffset: 8, as: UInt32.self)
                if status & Self.statusUser != 0 {
                    atomicMemoryFence(ordering: .acquiring)
                    take(descriptor)
                    atomicMemoryFence(ordering: .releasing)
                    descriptor.storeBytes(of: Self.statusKernel, toByteOffset: 8, as: UInt32.self)
                    block = (block + 1) % Self.blockCount
                    continue
                }
                if stopping.load(ordering: .acquiring) {
                    let now = Self.clocks().monotonic
                    if let until = drainUntil {
                        if now >= until { break }
                    } else {
                        drainUntil = now + 4 * UInt64(Self.blockTimeout) * 1_000_000
                    }
                }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                _ = poll(&poller, 1, Int32(Self.blockTimeout))
            }
            finished.signal()
        }

        /// The data segments of one block (struct tpacket3_hdr: next offset, seconds, nanoseconds, captured length,
        /// length, status, MAC offset, network offset).
        private func take(_ descriptor: UnsafeMutableRawPointer) {
            let count = descriptor.load(fromByteOffset: 12, as: UInt32.self)
            var packet = descriptor + Int(descriptor.load(fromByteOffset: 16, as: UInt32.self))
            for _ in 0..<count {
                let next = packet.load(fromByteOffset: 0, as: UInt32.self)
                let seconds = packet.load(fromByteOffset: 4, as: UInt32.self)
                let nanoseconds = packet.load(fromByteOffset: 8, as: UInt32.self)
                let captured = packet.load(fromByteOffset: 12, as: UInt32.self)
                let network = packet.load(fromByteOffset: 26, as: UInt16.self)
                let bytes = UnsafeRawBufferPointer(start: packet + Int(network), count: Int(captured))
                if let segment = WireSegment(
                    ipv4: bytes, nanos: UInt64(seconds) * 1_000_000_000 + UInt64(nanoseconds)),
                    segment.sourcePort == port || segment.destinationPort == port
                {
                    segments.append(segment)
                }
                packet += Int(next)
            }
        }
    }

    /// struct sock_filter: one classic BPF instruction.
    private struct SocketFilter {
        var code: UInt16
        var jt: UInt8
        var jf: UInt8
        var k: UInt32
    }

    /// struct sock_fprog: the program's length and its instructions.
    private struct SocketFilterProgram {
        var length: UInt16
        var filter: UnsafeMutablePointer<SocketFilter>
    }
#else
    /// Packet capture is Linux's (`AF_PACKET`): elsewhere it is unavailable.
    public final class LoopbackCapture: Sendable {
        public init(port: UInt16) throws {
            throw Unavailable(description: "packet capture on the loopback interface is Linux only")
        }

        public func stop() -> Result { Result(segments: [], packets: 0, dropped: 0) }
    }
#endif

extension LoopbackCapture {
    /// Why no capture could be had.
    public struct Unavailable: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// What a stopped capture saw.
    public struct Result: Sendable {
        /// The data segments (a bare ACK, SYN or FIN is left out), in the order captured.
        public var segments: [WireSegment]
        /// Packets the kernel passed through the filter, and those it dropped for want of room in the ring.
        public var packets: Int
        public var dropped: Int
    }
}
