import CYajl

/// One member's value as `JSONMembers.scan` hands it over. Scalars are yajl's decoded bytes,
/// valid only during the call; a nested object or array is its byte range in the input.
public enum JSONMemberValue {
    case string(UnsafeBufferPointer<UInt8>)
    /// The number's text as written.
    case number(UnsafeBufferPointer<UInt8>)
    case bool(Bool)
    case null
    case nested(Range<Int>)
}

/// Reading one JSON object's members with yajl's event parser: no tree, no `JSONValue`, no
/// dictionaries. For the commands that read a few fields of many documents (`list`).
public enum JSONMembers {
    /// Hands each member of the object `input` to `body`, in document order: its key and its
    /// value. yajl checks the whole document as `JSONValue.parse` does (UTF-8, nothing after
    /// the object).
    ///
    /// - Throws: `JSONError` with yajl's message, or `expected object` when the document is
    ///   not an object.
    public static func scan(_ input: UnsafeBufferPointer<UInt8>,
                            _ body: (UnsafeBufferPointer<UInt8>, JSONMemberValue) -> Void) throws(JSONError) {
        var callbacks = yajl_callbacks(
            yajl_null: { context($0).scalar(.null) },
            yajl_boolean: { context($0).scalar(.bool($1 != 0)) },
            yajl_integer: nil,
            yajl_double: nil,
            yajl_number: { p, text, count in
                context(p).scalar(.number(UnsafeBufferPointer(start: UnsafeRawPointer(text)?.assumingMemoryBound(to: UInt8.self), count: count)))
            },
            yajl_string: { p, text, count in context(p).scalar(.string(UnsafeBufferPointer(start: text, count: count))) },
            yajl_start_map: { context($0).open(array: false) },
            yajl_map_key: { p, text, count in context(p).key(UnsafeBufferPointer(start: text, count: count)) },
            yajl_end_map: { context($0).close() },
            yajl_start_array: { context($0).open(array: true) },
            yajl_end_array: { context($0).close() })
        var failure: JSONError?
        withoutActuallyEscaping(body) { body in
            let scanner = MemberScanner(body)
            withUnsafePointer(to: &callbacks) { cb in
                let context = Unmanaged.passUnretained(scanner).toOpaque()
                guard let handle = yajl_alloc(cb, nil, context) else {
                    failure = JSONError(message: "out of memory")
                    return
                }
                defer { yajl_free(handle) }
                scanner.handle = handle
                var status = yajl_parse(handle, input.baseAddress, input.count)
                if status == yajl_status_ok { status = yajl_complete_parse(handle) }
                if status == yajl_status_client_canceled {
                    failure = JSONError(message: "expected object")
                } else if status != yajl_status_ok {
                    failure = JSONError(message: errorMessage(handle, input))
                }
            }
            withExtendedLifetime(scanner) {}
        }
        if let failure { throw failure }
    }

    /// yajl's error, its first line: `parse error: premature EOF`.
    private static func errorMessage(_ handle: yajl_handle, _ input: UnsafeBufferPointer<UInt8>) -> String {
        guard let text = yajl_get_error(handle, 0, input.baseAddress, input.count) else { return "parse error" }
        defer { yajl_free_error(handle, text) }
        var message = String(cString: text)
        if let newline = message.utf8.firstIndex(of: UInt8(ascii: "\n")) { message = String(message[..<newline]) }
        return message.isEmpty ? "parse error" : message
    }
}

private func context(_ pointer: UnsafeMutableRawPointer?) -> MemberScanner {
    Unmanaged<MemberScanner>.fromOpaque(pointer!).takeUnretainedValue()
}

/// The state of one scan, passed to yajl's callbacks as their context. Each returns 1 to go
/// on, 0 to stop the parse (the document is not an object).
private final class MemberScanner {
    var handle: yajl_handle?
    /// 0 before the document's object, 1 inside it, more inside a member's value.
    var depth = 0
    /// The current member's key (yajl's bytes are valid only during its callback).
    var key: [UInt8] = []
    /// Where the current member's nested value starts in the input.
    var nestedStart = 0
    let body: (UnsafeBufferPointer<UInt8>, JSONMemberValue) -> Void

    init(_ body: @escaping (UnsafeBufferPointer<UInt8>, JSONMemberValue) -> Void) {
        self.body = body
        key.reserveCapacity(64)
    }

    /// How far yajl has read: just past the token of the current callback.
    private var consumed: Int { Int(yajl_get_bytes_consumed(handle)) }

    func scalar(_ value: JSONMemberValue) -> Int32 {
        if depth == 0 { return 0 }
        if depth == 1 { key.withUnsafeBufferPointer { body($0, value) } }
        return 1
    }

    func key(_ text: UnsafeBufferPointer<UInt8>) -> Int32 {
        if depth == 1 {
            key.removeAll(keepingCapacity: true)
            key.append(contentsOf: text)
        }
        return 1
    }

    func open(array: Bool) -> Int32 {
        if depth == 0 && array { return 0 }
        if depth == 1 { nestedStart = consumed - 1 }
        depth += 1
        return 1
    }

    func close() -> Int32 {
        depth -= 1
        if depth == 1 {
            let range = nestedStart..<consumed
            key.withUnsafeBufferPointer { body($0, .nested(range)) }
        }
        return 1
    }
}
